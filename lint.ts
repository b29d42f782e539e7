/**
 * The Deno lint plugin: rule `aiguard/no-unattested-ai-call`, the same analysis as `aiguard scan`
 * and the ESLint plugin, one file at a time.
 *
 * @example deno.json
 * ```json
 * { "lint": { "plugins": ["jsr:@aiguard/attest/lint"] } }
 * ```
 *
 * @module
 */
import { analyze, type Node } from "./src/scan/analyze.ts";

/** What the rule needs of Deno lint's rule context. */
interface LintContext {
  sourceCode: { text: string };
  report(descriptor: { node: Node; message: string }): void;
}

/** A Deno lint plugin, as `deno lint` loads one. */
export interface DenoLintPlugin {
  /** The plugin's name: rules are reported as `aiguard/<rule>`. */
  name: string;
  /** `no-unattested-ai-call`. */
  rules: Record<string, { create(context: LintContext): Record<string, (node: Node) => void> }>;
}

const plugin: DenoLintPlugin = {
  name: "aiguard",
  rules: {
    "no-unattested-ai-call": {
      create(context) {
        return {
          Program(program) {
            for (const site of analyze(program, context.sourceCode.text).sites) {
              if (site.attested) continue;
              context.report({
                node: site.node,
                message: `Unattested ${site.provider} call (${site.target}): wrap the calling ` +
                  "function with attest() once it is reviewed.",
              });
            }
          },
        };
      },
    },
  },
};

export default plugin;
