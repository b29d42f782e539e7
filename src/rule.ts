/**
 * The one rule aiguard reports statically: its name in the ESLint and Deno lint plugins, and its id
 * in SARIF output (`aiguard scan`, `report`, `coverage`), so a finding reads the same everywhere.
 *
 * @module
 */

/** The plugins' namespace: ESLint's `meta.namespace`, Deno lint's plugin `name`. */
export const RULE_NAMESPACE = "aiguard";

/** The rule's name inside its plugin. */
export const RULE_NAME = "no-unattested-ai-call";

/**
 * The rule's id as linters print it and SARIF names it.
 *
 * @example
 * ```ts
 * import { RULE_ID } from "./rule.ts";
 * RULE_ID; // "aiguard/no-unattested-ai-call"
 * ```
 */
export const RULE_ID = `${RULE_NAMESPACE}/${RULE_NAME}`;

/** What to do about a finding: the sentence SARIF results and lint messages end with. */
export const RULE_FIX = "Wrap the calling function with attest() once it is reviewed.";

/**
 * The message of one unattested site, as the lint plugins and `aiguard scan` word it.
 *
 * @example
 * ```ts
 * import { ruleMessage } from "./rule.ts";
 * ruleMessage("openai", "openai.embeddings.create");
 * // "Unattested openai call (openai.embeddings.create): wrap the calling function with attest() once it is reviewed."
 * ```
 */
export function ruleMessage(provider: string, target: string): string {
  return `Unattested ${provider} call (${target}): ${RULE_FIX[0]!.toLowerCase()}${
    RULE_FIX.slice(1)
  }`;
}
