/**
 * The Deno lint plugin: rule `aiguard/no-unattested-ai-call`, the same analysis as `aiguard scan`
 * and the ESLint plugin, one file at a time (what another module gives is the scan's to follow).
 *
 * @example deno.json
 * ```json
 * { "lint": { "plugins": ["jsr:@aiguard/attest/lint"] } }
 * ```
 *
 * @module
 */
import { lintProblems, type Node } from "./src/scan/analyze.ts";
import { RULE_NAME, RULE_NAMESPACE } from "./src/rule.ts";

/** An ESTree node, as the linter hands it over. */
export interface AstNode {
  /** The node type, e.g. `CallExpression`. */
  type: string;
  /** The other ESTree fields. */
  [key: string]: unknown;
}

/** What the rule needs of Deno lint's rule context. */
export interface LintContext {
  /** The file's text. */
  sourceCode: { text: string };
  /** Reports one problem. */
  report(descriptor: { node: AstNode; message: string }): void;
}

/** A Deno lint plugin, as `deno lint` loads one. */
export interface DenoLintPlugin {
  /** The plugin's name: rules are reported as `aiguard/<rule>`. */
  name: string;
  /** `no-unattested-ai-call`. */
  rules: Record<string, { create(context: LintContext): Record<string, (node: AstNode) => void> }>;
}

/** The plugin: `aiguard/no-unattested-ai-call`. */
const plugin: DenoLintPlugin = {
  name: RULE_NAMESPACE,
  rules: {
    [RULE_NAME]: {
      create(context) {
        return {
          Program(program) {
            for (const p of lintProblems(program as Node, context.sourceCode.text)) {
              context.report({ node: p.node as AstNode, message: p.message });
            }
          },
        };
      },
    },
  },
};

export default plugin;
