/**
 * Attestation scopes: which functions run attested. A function is attested when it is passed to
 * `attest()` (inline, by name, `attest(opts)(fn)`, aliases and namespaces included) or is a method
 * decorated with `@attest()`; a call inside it, or inside a function nested in it, is attested.
 * A call through a `wrap()`ped client is attested by the wrap.
 *
 * @module
 */
import { attestIdOf, type ResolveContext, resolveValue } from "./resolve.ts";
import type { FnSummary, Value } from "./values.ts";

/** A call or decorator that may attest a function: `via(target, options)` or `@via`. */
export interface AttestMark {
  /** The function passed (or decorated). */
  target: Value;
  /** The callee or decorator expression. */
  via: Value;
  /** The options argument of `attest(fn, options)`. */
  options?: Value | undefined;
}

function isAttest(v: Value): boolean {
  return v.k === "aiguard" && v.member === "attest";
}

/**
 * Marks the function a mark names as attested, if the mark is `attest`.
 *
 * @example
 * ```ts
 * import { markAttested } from "./attestation.ts";
 * import { resolveContext } from "./resolve.ts";
 * const fn = { name: "f", returns: [], forwards: [], parent: null, attested: null };
 * markAttested({ target: { k: "fn", fn }, via: { k: "aiguard", member: "attest" } }, resolveContext());
 * fn.attested; // { id: null }
 * ```
 */
export function markAttested(mark: AttestMark, ctx: ResolveContext): void {
  const via = mark.via;
  // Cheap shapes first: most calls are not attest().
  if (via.k !== "aiguard" && via.k !== "member" && via.k !== "call" && via.k !== "cell") return;
  let id: string | null;
  if (isAttest(resolveValue(via, ctx))) id = attestIdOf(mark.options, ctx);
  else if (via.k === "call" && isAttest(resolveValue(via.callee, ctx))) {
    id = attestIdOf(via.args[0], ctx); // attest(options)(fn), @attest(options)
  } else return;
  const target = resolveValue(mark.target, ctx);
  for (const t of target.k === "either" ? target.options : [target]) {
    if (t.k === "fn") t.fn.attested = { id };
  }
}

/**
 * Whether a call in `fn` runs attested, and the attest `id` that applies (the innermost one
 * given, or the wrap's).
 *
 * @example
 * ```ts
 * import { attestationOf } from "./attestation.ts";
 * attestationOf(null, undefined); // { attested: false, id: null }
 * ```
 */
export function attestationOf(
  fn: FnSummary | null,
  wrappedId: string | null | undefined,
): { attested: boolean; id: string | null } {
  let attested = wrappedId !== undefined;
  let id: string | null = wrappedId ?? null;
  for (let f = fn; f; f = f.parent) {
    if (!f.attested) continue;
    attested = true;
    id ??= f.attested.id;
  }
  return { attested, id };
}
