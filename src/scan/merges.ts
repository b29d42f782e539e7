/**
 * Functions that merge settings objects: `Object.assign({}, DEFAULTS, stored)` and lodash's
 * `defaults(stored, DEFAULTS)` (`merge`, `assign`, `defaultsDeep`; `deepmerge`, `defu`). Their
 * result is read as `{ ...a, ...b }` is: a member may come from any of the objects, so a settings
 * getter's default literal (`apiUrl: "https://chatgpt.com"`) reaches the URL built from
 * `(await getSettings()).apiUrl`, beside the stored value the scan cannot read.
 *
 * @module
 */
import { memberName, type Node } from "./estree.ts";
import type { Value } from "./values.ts";

/** The name a merging function stands under: no global has it. */
export const MERGE = "(merge)";

/** lodash's merging functions, by export name. */
const LODASH_MERGES = ["defaults", "defaultsDeep", "merge", "assign", "assignIn", "extend"];

/** Packages that export one merging function as the module (`lodash.merge`, `deepmerge`). */
const MODULE_MERGES = new Set([
  ...LODASH_MERGES.flatMap((f) => [`lodash/${f}`, `lodash-es/${f}`, `lodash.${f.toLowerCase()}`]),
  "deepmerge",
  "object-assign",
]);

/** Packages with merging functions among named exports. */
const NAMED_MERGES = new Map<string, ReadonlySet<string>>([
  ["lodash", new Set(LODASH_MERGES)],
  ["lodash-es", new Set(LODASH_MERGES)],
  ["defu", new Set(["defu"])],
]);

/** Most objects of one merge the scan reads, as of an object literal's spreads. */
const MAX_MERGED = 4;

/**
 * What the export `imported` (a name, `default` or `*`) of a package is when it merges objects:
 * the merging function, lodash itself as an object of them (`_.defaults`), or `null`.
 *
 * @example
 * ```ts
 * import { mergeImport } from "./merges.ts";
 * mergeImport("lodash-es", "defaults"); // { k: "global", name: "(merge)" }
 * mergeImport("lodash-es", "debounce"); // null
 * ```
 */
export function mergeImport(specifier: string, imported: string): Value | null {
  const fn: Value = { k: "global", name: MERGE };
  if (MODULE_MERGES.has(specifier)) return imported === "default" || imported === "*" ? fn : null;
  const named = NAMED_MERGES.get(specifier);
  if (!named) return null;
  if (named.has(imported)) return fn;
  if (imported !== "default" && imported !== "*") return null;
  return { k: "obj", props: new Map([...named].map((name) => [name, fn])) };
}

/** Whether a callee's value is a merging function (`defaults`, `_.merge` of an imported lodash). */
export function isMerge(callee: Value): boolean {
  if (callee.k === "member" && callee.object.k === "obj") {
    const member = callee.object.props.get(callee.name);
    return member !== undefined && isMerge(member);
  }
  return callee.k === "global" && callee.name === MERGE;
}

/**
 * Whether a callee is `Object.assign` of the global `Object` (`declared` says whether a scope
 * declares a name).
 */
export function isObjectAssign(callee: Node, declared: (name: string) => boolean): boolean {
  return callee.type === "MemberExpression" && memberName(callee) === "assign" &&
    callee.object?.type === "Identifier" && callee.object.name === "Object" &&
    !declared("Object");
}

/** The object a merge of `args` makes: each of them spread into it, in order. */
export function mergedObject(args: Value[]): Value {
  return { k: "obj", props: new Map(), spreads: args.slice(0, MAX_MERGED) };
}
