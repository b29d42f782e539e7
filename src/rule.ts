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
