/**
 * The one analysis behind `aiguard scan` and both lint plugins: given a file's ESTree (from
 * oxc-parser, ESLint or Deno lint), the AI call sites in it and whether each runs attested.
 *
 * One walk (`walk.ts`, on the evaluator of `evaluate.ts`) builds value summaries (`values.ts`)
 * for every binding, function (what it returns, which calls receive its parameters), class
 * (fields, methods, superclass) and export; then every call is classified (`call_kinds.ts`) with
 * those summaries resolved (`resolve.ts`) and made a site (`sites.ts`). A call whose answer
 * depends on another scanned module's exports is handed back as pending: the scan classifies it
 * once every module is read (the lint rules, one file at a time, do not).
 *
 * @module
 */
import { ruleMessage } from "../rule.ts";
import { markAttested } from "./attestation.ts";
import { bridgeEntries } from "./electron.ts";
import { lineStarts, type Node, position, startOf } from "./estree.ts";
import type { AnalyzeOptions } from "./evaluate.ts";
import { resolveContext, type ResolveMemo, resolveValue } from "./resolve.ts";
import { Scope } from "./scopes.ts";
import type { Through } from "./site_facts.ts";
import {
  calledByName,
  overriddenFacts,
  type PendingCall,
  sentThere,
  type Site,
  toSite,
} from "./sites.ts";
import { extendsScanned, Subclasses } from "./subclasses.ts";
import { type ClassSummary, detachStrings, type FnSummary, ownText, type Value } from "./values.ts";
import { type ModuleExports, Walk } from "./walk.ts";

export type { Node } from "./estree.ts";
export { startOf } from "./estree.ts";

/** What the analysis of one file returns. */
export interface Analysis {
  /** The sites the file alone decides. */
  sites: Site[];
  /** What the file exports, for the files importing it. */
  exports: ModuleExports;
  /** Calls to classify once every scanned module's exports are known. */
  pending: PendingCall[];
  /**
   * Reads of each name (`f` in `f(…)`, `x.f(…)`, `g(f)`, `return f`), those in a function of that
   * name left out: a function read once is called from one place (or handed on from there).
   */
  readNames: Map<string, number>;
  /** Calls by the name they call (`f(…)`, `x.f(…)`), counted as {@link readNames} are. */
  callNames: Map<string, number>;
  /**
   * The file's classes that extend a class it may not declare itself: the scan places them under
   * their base classes (an abstract method's overrides), once every module is read.
   */
  subclasses: ClassSummary[];
  /** What the file registers on Electron's bridge (`electron.ts`), for the scan; none in lint. */
  bridges: Array<[string, Value]>;
  /** Scanned modules whose functions the file hands an SDK's loader (`Walk.loaders`). */
  loaders: string[];
}

/**
 * Finds the AI call sites of one file's AST.
 *
 * @example
 * ```ts ignore
 * import { parseSync } from "oxc-parser";
 * import { analyze } from "./analyze.ts";
 * const source = 'import OpenAI from "openai"; await new OpenAI().embeddings.create({});';
 * analyze(parseSync("a.ts", source).program, source).sites[0]?.target; // "openai.embeddings.create"
 * ```
 */
export function analyze(program: Node, source: string, options: AnalyzeOptions = {}): Analysis {
  const starts = lineStarts(source);
  const walk = new Walk(options);
  walk.visit(program, new Scope(null, null, null));
  const memo: ResolveMemo = new Map();
  const plainMemo: ResolveMemo = new Map();
  // One file (the lint rules): an abstract method stands for its overrides in this file. The
  // scan finds them once every module is read: until then, such a call is left open.
  let local: Subclasses | null = null;
  if (!options.resolveModule) {
    local = new Subclasses((v) => resolveValue(v, resolveContext()));
    local.add(walk.subclasses);
  }
  const context = (dispatch: boolean) =>
    dispatch ? resolveContext(undefined, memo, local?.of) : resolveContext(undefined, plainMemo);
  for (const mark of walk.marks) markAttested(mark, context(true));
  const sites: Site[] = [];
  const pending: PendingCall[] = [];
  for (const { at } of walk.forwardCalls) Object.assign(at!, position(starts, at!.offset));
  for (const record of walk.records) {
    const { facts, ctx } = overriddenFacts(record, context);
    const offset = startOf(record.node);
    const { line, column } = position(starts, offset);
    // The scan answers a call through an abstract method again once it knows every subclass (the
    // lint rules, one file, have their answer: this file's overrides, or none).
    if (facts && !(ctx.open && options.resolveModule)) {
      sites.push(toSite(facts, { offset, line, column, fn: record.fn }, record.node));
    } else if (ctx.pending) {
      const call: PendingCall = {
        callee: record.callee,
        args: record.args,
        offset,
        line,
        column,
        fn: record.fn,
        distinctive: record.distinctive,
      };
      if (facts) call.fallback = facts;
      pending.push(call);
    }
  }
  if (!options.resolveModule) {
    // One file: what the scan does with every file's counts (`scan.ts`), with this file's.
    for (let i = sites.length - 1; i >= 0; i--) {
      const from = sites[i]!.pathFrom;
      delete sites[i]!.pathFrom;
      if (from && calledByName(from, walk.readNames)) sites.splice(i, 1);
    }
    const dropped = new Set<Site>();
    for (const s of sites) {
      let through: Through | null = null;
      let shared = false;
      for (let t = s.through; t; t = t.inner) {
        if (t.factory) shared = true;
        else if (!sentThere(t.fn, walk.readNames, walk.callNames)) break;
        through = t;
      }
      delete s.through;
      if (!through) continue;
      const node = walk.forwardNodes.get(through.at);
      if (!node) continue;
      if (sites.some((o) => o.offset === through.at.offset)) {
        if (shared) dropped.add(s);
        continue;
      }
      Object.assign(s, {
        offset: through.at.offset,
        line: through.at.line,
        column: through.at.column,
        node,
      });
    }
    if (dropped.size) sites.splice(0, sites.length, ...sites.filter((s) => !dropped.has(s)));
  }
  sites.sort((a, b) => a.offset - b.offset);
  const subclasses = options.resolveModule ? walk.subclasses.filter(extendsScanned) : [];
  const bridges = options.resolveModule ? bridgeEntries(walk.records, context(false)) : [];
  if (options.resolveModule) {
    // The scan keeps exports and pending calls past the tree; the lint rules keep nothing.
    const names = [...walk.exports.names];
    walk.exports.names.clear();
    for (const [name, value] of names) walk.exports.names.set(ownText(name), value);
    walk.exports.star = walk.exports.star.map(ownText);
    // The functions a site keeps until the scan places it (`through`, `pathFrom`) too.
    const kept: FnSummary[] = pending.map((p) => p.fn).filter((fn) => fn !== null);
    for (const s of [...sites, ...pending.map((p) => p.fallback)]) {
      if (s?.pathFrom) kept.push(s.pathFrom);
      for (let t = s?.through; t; t = t.inner) kept.push(t.fn);
    }
    detachStrings(
      [
        ...walk.exports.names.values(),
        ...subclasses.map((cls) => ({ k: "class", cls }) as const),
        ...bridges.map(([, v]) => v),
      ],
      pending,
      kept,
    );
    for (const p of pending) {
      if (p.distinctive !== null) p.distinctive = ownText(p.distinctive);
      if (p.fallback) p.fallback.target = ownText(p.fallback.target);
    }
    for (const s of sites) {
      s.target = ownText(s.target);
      if (s.attestation !== null) s.attestation = ownText(s.attestation);
    }
  }
  return {
    sites,
    exports: walk.exports,
    pending,
    readNames: walk.readNames,
    callNames: walk.callNames,
    subclasses,
    bridges,
    loaders: [...walk.loaders],
  };
}

/**
 * What the lint front-ends report: every unattested site, with its message.
 *
 * @example
 * ```ts ignore
 * for (const p of lintProblems(program, source)) context.report({ node: p.node, message: p.message });
 * ```
 */
export function lintProblems(
  program: Node,
  source: string,
): Array<{ node: Node; provider: string; target: string; message: string }> {
  return analyze(program, source).sites.filter((s) => !s.attested).map((s) => ({
    node: s.node,
    provider: s.provider,
    target: s.target,
    message: ruleMessage(s.provider, s.target),
  }));
}
