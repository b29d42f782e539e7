/**
 * What the analysis needs of an ESTree, whichever parser gave it (oxc-parser, ESLint's parsers,
 * Deno lint): names, literals, positions, and the children of a node. The three differ in small
 * ways (where a template's text lives, `range` or `start`), and every difference is settled here.
 *
 * @module
 */

/** An ESTree node, as any of the three parsers gives it. */
// deno-lint-ignore no-explicit-any
export type Node = { type: string; [key: string]: any };

/** Keys that never lead to code the analysis reads (types, positions, back links). */
const SKIP_KEYS = new Set([
  "parent",
  "loc",
  "range",
  "start",
  "end",
  "type",
  "typeAnnotation",
  "returnType",
  "typeParameters",
  "typeArguments",
  "superTypeArguments",
  "superTypeParameters",
  "implements",
  "decorators",
]);

/** Declarations that only exist for the type checker: nothing in them runs. */
const TYPE_ONLY = new Set([
  "TSInterfaceDeclaration",
  "TSTypeAliasDeclaration",
  "TSDeclareFunction",
  "TSModuleDeclaration",
  "TSImportEqualsDeclaration",
]);

/**
 * Calls `visit` on each child node of `node`, in source order (what a walk descends into).
 *
 * @example
 * ```ts
 * import { forEachChild } from "./estree.ts";
 * const seen: string[] = [];
 * forEachChild({ type: "ExpressionStatement", expression: { type: "Identifier", name: "x" } }, (c) => seen.push(c.type));
 * ```
 */
export function forEachChild(node: Node, visit: (child: Node, key: string) => void): void {
  for (const key in node) {
    if (SKIP_KEYS.has(key)) continue;
    const v = node[key];
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) {
      for (const c of v) {
        if (c && typeof c.type === "string" && !TYPE_ONLY.has(c.type)) visit(c, key);
      }
    } else if (typeof v.type === "string" && !TYPE_ONLY.has(v.type)) visit(v, key);
  }
}

/**
 * The name an identifier or a string literal gives, or `null`.
 *
 * @example
 * ```ts
 * import { nameOf } from "./estree.ts";
 * nameOf({ type: "Identifier", name: "client" }); // "client"
 * ```
 */
export function nameOf(node: Node | null | undefined): string | null {
  if (!node) return null;
  if (node.type === "Identifier" || node.type === "PrivateIdentifier") return node.name as string;
  if (
    (node.type === "Literal" || node.type === "StringLiteral") && typeof node.value === "string"
  ) {
    return node.value;
  }
  return null;
}

/**
 * The property a member expression reads when the source names it: `a.b` and `a["b"]` give `b`;
 * `a[b]` (a computed key that is not a literal) gives `null`.
 *
 * @example
 * ```ts
 * import { memberName } from "./estree.ts";
 * memberName({ type: "MemberExpression", computed: true, property: { type: "Identifier", name: "k" } }); // null
 * ```
 */
export function memberName(node: Node): string | null {
  const p = node.property as Node | undefined;
  if (!p) return null;
  if (!node.computed) return nameOf(p);
  const key = unwrap(p);
  if ((key.type === "Literal" || key.type === "StringLiteral") && typeof key.value === "string") {
    return key.value;
  }
  if (key.type === "TemplateLiteral" && key.expressions.length === 0) return templateText(key, 0);
  return null;
}

/**
 * The node under wrappers that do not change a value: parentheses, TS assertions, optional chains.
 *
 * @example
 * ```ts
 * import { unwrap } from "./estree.ts";
 * unwrap({ type: "TSNonNullExpression", expression: { type: "Identifier", name: "x" } }).type; // "Identifier"
 * ```
 */
export function unwrap(node: Node): Node {
  let n = node;
  while (
    n.type === "TSAsExpression" || n.type === "TSNonNullExpression" ||
    n.type === "TSSatisfiesExpression" || n.type === "ParenthesizedExpression" ||
    n.type === "ChainExpression" || n.type === "TSTypeAssertion"
  ) n = n.expression;
  return n;
}

/**
 * Whether a node is a function (declaration, expression or arrow).
 *
 * @example
 * ```ts
 * import { isFunction } from "./estree.ts";
 * isFunction({ type: "ArrowFunctionExpression" }); // true
 * ```
 */
export function isFunction(node: Node): boolean {
  return node.type === "ArrowFunctionExpression" || node.type === "FunctionExpression" ||
    node.type === "FunctionDeclaration";
}

/**
 * The text of quasi `i` of a template literal (ESTree keeps it under `value`; Deno lint's AST on
 * the element itself).
 *
 * @example
 * ```ts
 * import { templateText } from "./estree.ts";
 * templateText({ type: "TemplateLiteral", quasis: [{ value: { cooked: "/v1" } }], expressions: [] }, 0); // "/v1"
 * ```
 */
export function templateText(node: Node, i: number): string {
  const q = node.quasis[i] as Node | undefined;
  return q?.value?.cooked ?? q?.value?.raw ?? q?.cooked ?? q?.raw ?? "";
}

/**
 * The string a literal (or a template without holes) gives, or `null`.
 *
 * @example
 * ```ts
 * import { stringOf } from "./estree.ts";
 * stringOf({ type: "Literal", value: "openai" }); // "openai"
 * ```
 */
export function stringOf(node: Node | null | undefined): string | null {
  if (!node) return null;
  const n = unwrap(node);
  if ((n.type === "Literal" || n.type === "StringLiteral") && typeof n.value === "string") {
    return n.value;
  }
  if (n.type === "TemplateLiteral" && n.expressions.length === 0) return templateText(n, 0);
  return null;
}

/**
 * Where a node starts: `range[0]` (ESLint, Deno lint) or `start` (oxc).
 *
 * @example
 * ```ts
 * import { startOf } from "./estree.ts";
 * startOf({ type: "Identifier", start: 4 }); // 4
 * ```
 */
export function startOf(node: Node): number {
  return (node.range?.[0] as number | undefined) ?? (node.start as number | undefined) ?? 0;
}

/**
 * The offsets where each line of `source` starts, for {@link position}.
 *
 * @example
 * ```ts
 * import { lineStarts } from "./estree.ts";
 * lineStarts("a\nb"); // [0, 2]
 * ```
 */
export function lineStarts(source: string): number[] {
  const starts = [0];
  let i = source.indexOf("\n");
  while (i !== -1) {
    starts.push(i + 1);
    i = source.indexOf("\n", i + 1);
  }
  return starts;
}

/**
 * The 1-based line and column (UTF-16 code units) of an offset.
 *
 * @example
 * ```ts
 * import { lineStarts, position } from "./estree.ts";
 * position(lineStarts("a\nbc"), 3); // { line: 2, column: 2 }
 * ```
 */
export function position(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}
