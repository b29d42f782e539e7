/**
 * The ESLint plugin (flat config): rule `aiguard/no-unattested-ai-call` reports every AI call site
 * that does not run inside `attest()`, an `@attest()` method or a `wrap()`ped client. It runs the
 * same analysis as `aiguard scan`, one file at a time: what the scan reports for the file alone. A
 * client, URL, path or fetch wrapper imported from another module is followed by the scan, not by
 * the rule.
 *
 * @example eslint.config.js
 * ```ts ignore
 * import aiguard from "@aiguard/attest/eslint";
 * import tsParser from "@typescript-eslint/parser";
 *
 * export default [
 *   { files: ["**\/*.ts"], languageOptions: { parser: tsParser } },
 *   aiguard.configs.recommended,
 * ];
 * ```
 *
 * @module
 */
import { lintProblems, type Node } from "./src/scan/analyze.ts";
import { RULE_ID, RULE_NAME, RULE_NAMESPACE, ruleMessage } from "./src/rule.ts";
import { VERSION } from "./src/version.ts";

/** An ESTree node, as the linter hands it over. */
export interface AstNode {
  /** The node type, e.g. `CallExpression`. */
  type: string;
  /** The other ESTree fields. */
  [key: string]: unknown;
}

/** What the rule needs of ESLint's rule context. */
export interface RuleContext {
  /** The file's text. */
  sourceCode: { text: string };
  /** Reports one problem. */
  report(descriptor: { node: AstNode; messageId: string; data: Record<string, string> }): void;
}

/** An ESLint rule, as the flat-config plugin format describes one. */
export interface EslintRule {
  /** Type, docs, messages and options schema. */
  meta: {
    type: "problem";
    docs: { description: string; recommended: boolean };
    messages: Record<string, string>;
    schema: [];
  };
  /** The visitor: the whole program is analysed once. */
  create(context: RuleContext): Record<string, (node: AstNode) => void>;
}

/** The plugin object ESLint loads. */
export interface EslintPlugin {
  /** Name, version and namespace. */
  meta: { name: string; version: string; namespace: string };
  /** `no-unattested-ai-call`. */
  rules: Record<string, EslintRule>;
  /** `recommended`: the rule as an error. */
  configs: Record<string, { plugins: Record<string, EslintPlugin>; rules: Record<string, string> }>;
}

const rule: EslintRule = {
  meta: {
    type: "problem",
    docs: {
      description:
        "AI provider calls must run inside attest(), an @attest() method or a wrap()ped client",
      recommended: true,
    },
    messages: {
      unattested: ruleMessage("{{provider}}", "{{target}}"),
    },
    schema: [],
  },
  create(context) {
    return {
      Program(program) {
        for (const p of lintProblems(program as Node, context.sourceCode.text)) {
          context.report({
            node: p.node as AstNode,
            messageId: "unattested",
            data: { provider: p.provider, target: p.target },
          });
        }
      },
    };
  },
};

/** The plugin: `aiguard/no-unattested-ai-call` and `configs.recommended`. */
const plugin: EslintPlugin = {
  meta: { name: "@aiguard/attest", version: VERSION, namespace: RULE_NAMESPACE },
  rules: { [RULE_NAME]: rule },
  configs: {},
};
plugin.configs.recommended = {
  plugins: { [RULE_NAMESPACE]: plugin },
  rules: { [RULE_ID]: "error" },
};

export default plugin;
