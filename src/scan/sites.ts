/**
 * The AI call sites of the scan: a call's facts (`call_kinds.ts`) made a site with its
 * attestation, the calls handed back pending and classified once every module is read, and where
 * a site made through a function is placed (its callers, or the call in it that sends).
 *
 * @module
 */
import { attestationOf } from "./attestation.ts";
import { classifyCall, distinctiveSite } from "./call_kinds.ts";
import type { Node } from "./estree.ts";
import { type ResolveContext, resolveContext, type ResolveMemo, resolveValue } from "./resolve.ts";
import type { SiteFacts, Through } from "./site_facts.ts";
import type { ClassSummary, FnSummary, SymbolicCall, Value } from "./values.ts";

/** One AI call site. */
export interface Site {
  /** 1-based line where the call expression starts. */
  line: number;
  /** 1-based column (UTF-16 code units). */
  column: number;
  /** Offset of the call expression in the source. */
  offset: number;
  /** GenAI provider name. */
  provider: string;
  /** The SDK or request function. */
  library: string;
  /** The method path, or the request's method and URL. */
  target: string;
  /** GenAI operation name, if known. */
  operation: string | null;
  /** Whether the call runs attested. */
  attested: boolean;
  /** The attest `id`, when a literal gives it. */
  attestation: string | null;
  /** `high` when the request function (or SDK method) and the target are both known. */
  confidence: "high" | "low";
  /** The call expression, for the lint front-ends to report on. */
  node: Node;
  /** Set when the request is made in a function the call calls (see `through` in the scan). */
  through?: Through;
  /** Set when the request's path is this function's parameter (see `calledByName`). */
  pathFrom?: FnSummary;
}

/** A call whose answer needs other modules' exports; no AST, so it outlives the file's tree. */
export interface PendingCall extends SymbolicCall {
  /** Offset of the call expression in the source. */
  offset: number;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** The function the call is in (attestation). */
  fn: FnSummary | null;
  /** The method path when the receiver's root is undeclared or `this` (low-confidence fallback). */
  distinctive: string | null;
  /**
   * What the file alone made of a call through an abstract method, kept for when the overrides
   * the scan finds tell nothing more (see `ResolveContext.open`).
   */
  fallback?: SiteFacts;
}

/**
 * Whether a callee is a method path on a provider SDK's client (one of its readings, at least): not
 * a framework's, whose models hold another SDK's client in their fields (`this.client` of
 * LangChain's Gemini model is Google's).
 */
function onProviderClient(callee: Value): boolean {
  const provider = (v: Value) => v.k === "sdk-client" && !v.entry.framework;
  return provider(callee) || (callee.k === "either" && callee.options.some(provider));
}

/** The site a call is, given what its callee and arguments resolve to, or `null`. */
export function siteFacts(
  call: SymbolicCall & { distinctive: string | null; fn: FnSummary | null },
  ctx: ResolveContext,
): SiteFacts | null {
  const facts = classifyCall(call.callee, call.args, ctx, call.fn);
  if (facts) return facts;
  if (call.distinctive === null || ctx.pending) return null;
  // A method the code defines itself (`get messages() { return { create } }`) is no SDK's; a
  // path on a provider SDK's client is that SDK's, and no AI call when the catalog names none
  // (OpenAI's `beta.threads.messages.create` only stores a message: no Anthropic call).
  const callee = resolveValue(call.callee, ctx, 0);
  if (callee.k === "fn" || onProviderClient(callee)) return null;
  return distinctiveSite(call.distinctive);
}

/**
 * {@link siteFacts} with abstract methods standing for their overrides, and, when that makes the
 * call no site, without: an override may tell more of a URL than its base class does (the host,
 * the path), but it may also lose a part the base left open (`storage.get(key) ?? ""` reads as
 * `""`). `context(dispatch)` makes the context of each try (with its own memo).
 *
 * @example
 * ```ts ignore
 * const { facts } = overriddenFacts(call, (dispatch) => resolveContext(exportOf, memo, dispatch ? subclassesOf : undefined));
 * ```
 */
export function overriddenFacts(
  call: SymbolicCall & { distinctive: string | null; fn: FnSummary | null },
  context: (dispatch: boolean) => ResolveContext,
): { facts: SiteFacts | null; ctx: ResolveContext } {
  const ctx = context(true);
  const facts = siteFacts(call, ctx);
  if (facts || !ctx.dispatched) return { facts, ctx };
  const plain = context(false);
  return { facts: siteFacts(call, plain), ctx: plain };
}

/** A site from a call's facts and position, attested or not where its function is. */
export function toSite(
  facts: SiteFacts,
  at: { offset: number; line: number; column: number; fn: FnSummary | null },
  node: Node,
): Site {
  const { attested, id } = attestationOf(at.fn, facts.wrappedId);
  return {
    line: at.line,
    column: at.column,
    offset: at.offset,
    provider: facts.provider,
    library: facts.library,
    target: facts.target,
    operation: facts.operation,
    attested,
    attestation: id,
    confidence: facts.confidence,
    node,
    ...(facts.through ? { through: facts.through } : {}),
    ...(facts.pathFrom ? { pathFrom: facts.pathFrom } : {}),
  };
}

const NO_NODE: Node = { type: "CallExpression" };

/**
 * Whether the scanned code reads a function's name (calls it, or hands it on): then a request
 * whose path is its parameter is its callers' (`site.pathFrom`), not the function's.
 *
 * @example
 * ```ts ignore
 * if (site.pathFrom && calledByName(site.pathFrom, readNames)) dropSite(site);
 * ```
 */
export function calledByName(fn: FnSummary, readNames: ReadonlyMap<string, number>): boolean {
  return fn.name !== null && (readNames.get(fn.name) ?? 0) > 0;
}

/**
 * Whether a request made in `fn` is its one caller's, made there: `fn`'s name is read once, by a
 * call (its own recursive calls aside). Then the site is the call in `fn` that sends; otherwise
 * `fn` is a wrapper and its callers are the sites. Names are all the scan counts by: a function
 * sharing its name with another one stays a wrapper.
 *
 * @example
 * ```ts ignore
 * if (site.through && sentThere(site.through.fn, readNames, callNames)) site.line = site.through.at.line;
 * ```
 */
export function sentThere(
  fn: FnSummary,
  readNames: ReadonlyMap<string, number>,
  callNames: ReadonlyMap<string, number>,
): boolean {
  return fn.name !== null && readNames.get(fn.name) === 1 && callNames.get(fn.name) === 1;
}

/**
 * A pending call classified with every scanned module's exports known (the scan's second pass).
 *
 * @example
 * ```ts ignore
 * const site = classifyPending(call, (module, name) => exportsOf.get(module)?.names.get(name));
 * // `memo` for answers through abstract methods' overrides (`subclassesOf`), `plainMemo` for
 * // those without (see `overriddenFacts`)
 * ```
 */
export function classifyPending(
  call: PendingCall,
  exportOf: (module: string, name: string) => Value | undefined,
  memo: ResolveMemo = new Map(),
  subclassesOf?: (cls: ClassSummary) => readonly ClassSummary[],
  plainMemo: ResolveMemo = new Map(),
): Site | null {
  const { facts } = overriddenFacts(
    call,
    (dispatch) =>
      dispatch ? resolveContext(exportOf, memo, subclassesOf) : resolveContext(exportOf, plainMemo),
  );
  const found = facts ?? call.fallback;
  return found ? toSite(found, call, NO_NODE) : null;
}
