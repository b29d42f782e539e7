/**
 * Value summaries: what an expression stands for, as far as the scan can tell, in the spirit of
 * CodeQL's API graphs and Semgrep's constant folding. A walk over one file builds them
 * symbolically (a parameter, `this.x`, a name imported from another module stay references);
 * {@link resolveValue} in `resolve.ts` reduces them once every function, class and module is known.
 * They hold no AST, so a module's summaries outlive its tree.
 *
 * @module
 */
import type { SdkEntry } from "../catalog.ts";
import type { HttpLibrary } from "./http_libraries.ts";

/** What a function does, for its callers: what it returns and which calls get its parameters. */
export interface FnSummary {
  /** The function's name (declaration, variable or method), if it has one. */
  name: string | null;
  /** What its `return` statements (or an arrow's body) give, parameters as references. */
  returns: Value[];
  /** Calls in its body whose arguments use its parameters: how it passes them on. */
  forwards: SymbolicCall[];
  /** The function it is nested in: attestation is inherited from it. */
  parent: FnSummary | null;
  /** Set when the function runs attested: the attest `id` (or `null` without one). */
  attested: { id: string | null } | null;
  /** The scanned module the function is in (the scan's id), when the analysis was told. */
  module?: string;
  /**
   * Set on a method that only subclasses implement: declared `abstract`, or whose body only
   * throws (`throw new Error("must be implemented in the subclass")`).
   */
  abstract?: true;
}

/** Where a call expression starts. */
export interface CallPosition {
  /** Offset in the source. */
  offset: number;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

/** A class: its methods, the fields its code assigns, its superclass. */
export interface ClassSummary {
  /** The class's name, if it has one. */
  name: string | null;
  /** What its `extends` clause names. */
  superclass: Value | null;
  /** Its (non-static) methods by name. */
  methods: Map<string, FnSummary>;
  /** `this.x` values: field initialisers, constructor parameter properties, `this.x = …`. */
  fields: Map<string, Cell>;
  /** Static fields. */
  statics: Map<string, Cell>;
  /** The scanned module the class is in (the scan's id), when the analysis was told. */
  module?: string;
}

/** A call, symbolically: what is called with what. */
export interface SymbolicCall {
  /** What is called. */
  callee: Value;
  /** The first arguments (as many as the analysis reads). */
  args: Value[];
  /** Where the call is (a function's forwards: its request may be reported there). */
  at?: CallPosition;
  /** Set on a forward that calls a parameter named for a fetch (`fetcher(url, init)`). */
  fetchParam?: true;
}

/** A variable or field: every value the code assigns to it (a flow-insensitive view, capped). */
export interface Cell {
  /** The values assigned, in source order. */
  values: Value[];
  /** Properties assigned on the variable (`ref.current = new RTClient()`). */
  members?: Map<string, Cell>;
}

/** Most values a cell keeps: enough for `let url = A; if (x) url = B;`, bounded for loops. */
export const CELL_LIMIT = 6;

/** What an expression stands for. */
export type Value =
  | { k: "unknown" }
  | { k: "str"; text: string }
  | { k: "concat"; parts: Value[] }
  | { k: "either"; options: Value[] }
  /** `new URL(path, base)`. */
  | { k: "urljoin"; path: Value; base: Value }
  /** An object literal; `spreads` are the objects spread into it (`{ ...defaults, ...options }`). */
  | { k: "obj"; props: Map<string, Value>; spreads?: Value[] }
  | { k: "array"; items: Value[] }
  | { k: "cell"; cell: Cell }
  | { k: "param"; fn: FnSummary; i: number }
  | { k: "member"; object: Value; name: string }
  | { k: "call"; callee: Value; args: Value[]; isNew: boolean }
  /** A parameter or field typed as a class: an instance of it. */
  | { k: "typed"; type: Value }
  /** A type alias (`type Sdk = typeof import("openai")`): `value` is what a value of it stands for. */
  | { k: "alias"; value: Value }
  /** A function; `self` is the class of the receiver a method was read from (`this` in it). */
  | { k: "fn"; fn: FnSummary; self?: ClassSummary }
  | { k: "class"; cls: ClassSummary }
  | { k: "instance"; cls: ClassSummary }
  /** `this` in the code of a class: at run time, an instance of it or of a subclass. */
  | { k: "this"; cls: ClassSummary }
  /** An export of another scanned module (`*`: the module's namespace). */
  | { k: "import"; module: string; name: string }
  /** A method of strings or arrays that the scan folds (`slice`, `replace`, `join`). */
  | { k: "method"; receiver: Value; name: string }
  /** A global the scan knows (`fetch`, `URL`, `globalThis`). */
  | { k: "global"; name: string }
  | { k: "sdk-module"; entry: SdkEntry }
  | { k: "sdk-class"; entry: SdkEntry; name: string; typeOnly: boolean }
  | { k: "sdk-client"; entry: SdkEntry; name: string; path: readonly string[] }
  | { k: "sdk-function"; entry: SdkEntry; name: string }
  | { k: "sdk-command-class"; entry: SdkEntry; name: string }
  | { k: "sdk-command"; entry: SdkEntry; name: string }
  | { k: "aiguard"; member: "attest" | "wrap" | null }
  | { k: "wrapped"; inner: Value; id: string | null }
  /** An HTTP client: a module (`axios`), an instance with a base URL, or one of its methods. */
  | { k: "http"; lib: HttpLibrary; base: Value | null; method: string | null };

/**
 * The member name of `object[key]` when the key is known only at run time: an object's or
 * array's member read this way may be any of them.
 */
export const ANY_KEY = "[*]";

/** The value nothing is known of. */
export const UNKNOWN: Value = { k: "unknown" };

/** Most alternatives a folded URL keeps (`either` of `either`s multiplies). */
const TEXT_LIMIT = 16;

/** Stands for a parameter of the function {@link withParamMarks} names, in a URL's text. */
export const PARAM_MARK = "\u0001";
let markedFn: FnSummary | null = null;

/**
 * Runs `compute` with the parameters of `fn` written {@link PARAM_MARK} in texts instead of `*`:
 * where a URL's text comes from a function's parameters.
 *
 * @example
 * ```ts
 * import { textsOf, withParamMarks } from "./values.ts";
 * const fn = { name: null, returns: [], forwards: [], parent: null, attested: null };
 * withParamMarks(fn, () => textsOf({ k: "param", fn, i: 0 })); // [{ text: "\u0001", exact: false }]
 * ```
 */
export function withParamMarks<T>(fn: FnSummary, compute: () => T): T {
  const saved = markedFn;
  markedFn = fn;
  try {
    return compute();
  } finally {
    markedFn = saved;
  }
}

/** A URL's text as far as it is known: holes as `*`. */
export interface UrlText {
  /** The text, `*` for each hole. */
  text: string;
  /** No hole: the whole text is known. */
  exact: boolean;
}

/**
 * The texts a resolved value may have: one per alternative, holes (`unknown`, parameters) as `*`.
 *
 * @example
 * ```ts
 * import { textsOf } from "./values.ts";
 * textsOf({ k: "concat", parts: [{ k: "unknown" }, { k: "str", text: "/v1/embeddings" }] });
 * // [{ text: "*\/v1/embeddings", exact: false }]
 * ```
 */
export function textsOf(value: Value, depth = 0): UrlText[] {
  if (depth > 12) return [{ text: "*", exact: false }];
  switch (value.k) {
    case "str":
      return [{ text: value.text, exact: true }];
    case "concat": {
      let acc: UrlText[] = [{ text: "", exact: true }];
      for (const part of value.parts) {
        const next: UrlText[] = [];
        const tails = textsOf(part, depth + 1);
        // Over the limit, every start kept so far keeps some of its continuations: the start
        // holds the host (`${base.origin}/v1/…`), which alternatives of a later part must not
        // crowd out.
        const quota = Math.max(1, Math.floor(TEXT_LIMIT / acc.length));
        for (const a of acc) {
          for (const b of tails.slice(0, quota)) {
            next.push({ text: joinHoles(a.text, b.text), exact: a.exact && b.exact });
          }
        }
        acc = next.slice(0, TEXT_LIMIT);
      }
      return acc;
    }
    case "either": {
      const out: UrlText[] = [];
      for (const option of value.options) {
        for (const t of textsOf(option, depth + 1)) {
          if (out.length < TEXT_LIMIT && !out.some((o) => o.text === t.text)) out.push(t);
        }
      }
      return out.length ? out : [{ text: "*", exact: false }];
    }
    case "urljoin": {
      const out: UrlText[] = [];
      for (const path of textsOf(value.path, depth + 1)) {
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path.text)) {
          out.push(path);
          continue;
        }
        for (const base of textsOf(value.base, depth + 1)) {
          if (out.length < TEXT_LIMIT) out.push(joinUrl(base, path));
        }
      }
      return out;
    }
    case "param":
      return [{ text: value.fn === markedFn ? PARAM_MARK : "*", exact: false }];
    default:
      return [{ text: "*", exact: false }];
  }
}

/** `a` + `b`, one `*` for two holes side by side. */
function joinHoles(a: string, b: string): string {
  return a.endsWith("*") && b.startsWith("*") ? a + b.slice(1) : a + b;
}

/** `new URL(path, base)` on texts: a rooted path replaces the base's path, else it is appended. */
function joinUrl(base: UrlText, path: UrlText): UrlText {
  const exact = base.exact && path.exact;
  if (path.text.startsWith("/")) {
    const origin = /^([a-z][a-z0-9+.-]*:\/\/[^/*]+)/i.exec(base.text)?.[1];
    return { text: (origin ?? "*") + path.text, exact: exact && origin !== undefined };
  }
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/]+$/i.test(base.text);
  const dir = origin || base.text.endsWith("/") || base.text.endsWith("*")
    ? (origin ? `${base.text}/` : base.text)
    : base.text.slice(0, base.text.lastIndexOf("/") + 1);
  return { text: joinHoles(dir.endsWith("*") ? `${dir}/` : dir, path.text), exact };
}

/**
 * A copy of `text` that holds nothing else (see {@link detachStrings}). oxc-parser hands names and string literals over as
 * slices of the file's source text, and V8 keeps a slice of 13 or more characters as a view of
 * the whole string: one name kept in a summary kept the file's whole source alive until the scan
 * ended (a quarter of the heap on a 1.5M-line tree).
 *
 * @example
 * ```ts
 * import { ownText } from "./values.ts";
 * const source = "import OpenAI from 'openai'; const client = new OpenAI();";
 * const name = ownText(source.slice(35, 41)); // "client", sharing nothing with `source`
 * ```
 */
export function ownText(text: string): string {
  // The concatenation is flattened into a new string before it is sliced.
  return text.length < 13 ? text : (" " + text).slice(1);
}
const own = ownText;

/**
 * Gives every string reachable from a module's summaries (`roots`) a copy of its own, so that
 * they keep no source text alive once the module's tree is dropped. Walks the summaries the
 * analysis built (values, functions, classes, cells); catalog entries are shared and left as
 * they are.
 *
 * @example
 * ```ts
 * import { detachStrings, type Value } from "./values.ts";
 * const source = 'const url = "https://api.openai.com/v1/chat/completions";';
 * const value: Value = { k: "str", text: source.slice(13, 55) };
 * detachStrings([value]); // `value.text` no longer holds `source`
 * ```
 */
export function detachStrings(
  roots: Iterable<Value>,
  calls: Iterable<SymbolicCall> = [],
  functions: Iterable<FnSummary | null> = [],
): void {
  const seen = new Set<object>();
  const values: Value[] = [...roots];
  const fns: FnSummary[] = [];
  for (const fn of functions) if (fn) fns.push(fn);
  const classes: ClassSummary[] = [];
  const cells: Cell[] = [];
  const callOf = (c: SymbolicCall) => {
    values.push(c.callee, ...c.args);
  };
  const keys = <T>(map: Map<string, T>): void => {
    const entries = [...map];
    map.clear();
    for (const [k, v] of entries) map.set(own(k), v);
  };
  for (const c of calls) callOf(c);
  while (values.length || fns.length || classes.length || cells.length) {
    const fn = fns.pop();
    if (fn) {
      if (seen.has(fn)) continue;
      seen.add(fn);
      if (fn.name !== null) fn.name = own(fn.name);
      if (fn.attested?.id) fn.attested.id = own(fn.attested.id);
      values.push(...fn.returns);
      for (const c of fn.forwards) callOf(c);
      if (fn.parent) fns.push(fn.parent);
      continue;
    }
    const cls = classes.pop();
    if (cls) {
      if (seen.has(cls)) continue;
      seen.add(cls);
      if (cls.name !== null) cls.name = own(cls.name);
      if (cls.superclass) values.push(cls.superclass);
      keys(cls.methods);
      keys(cls.fields);
      keys(cls.statics);
      fns.push(...cls.methods.values());
      cells.push(...cls.fields.values(), ...cls.statics.values());
      continue;
    }
    const cell = cells.pop();
    if (cell) {
      if (seen.has(cell)) continue;
      seen.add(cell);
      values.push(...cell.values);
      if (cell.members) {
        keys(cell.members);
        cells.push(...cell.members.values());
      }
      continue;
    }
    const v = values.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    switch (v.k) {
      case "str":
        v.text = own(v.text);
        break;
      case "concat":
        values.push(...v.parts);
        break;
      case "either":
        values.push(...v.options);
        break;
      case "urljoin":
        values.push(v.path, v.base);
        break;
      case "obj":
        keys(v.props);
        values.push(...v.props.values(), ...(v.spreads ?? []));
        break;
      case "array":
        values.push(...v.items);
        break;
      case "cell":
        cells.push(v.cell);
        break;
      case "param":
        fns.push(v.fn);
        break;
      case "member":
        v.name = own(v.name);
        values.push(v.object);
        break;
      case "call":
        values.push(v.callee, ...v.args);
        break;
      case "typed":
        values.push(v.type);
        break;
      case "alias":
        values.push(v.value);
        break;
      case "fn":
        fns.push(v.fn);
        if (v.self) classes.push(v.self);
        break;
      case "class":
      case "instance":
      case "this":
        classes.push(v.cls);
        break;
      case "import":
        v.module = own(v.module);
        v.name = own(v.name);
        break;
      case "method":
        v.name = own(v.name);
        values.push(v.receiver);
        break;
      case "sdk-client":
        v.path = v.path.map(own);
        v.name = own(v.name);
        break;
      case "sdk-class":
      case "sdk-function":
      case "sdk-command-class":
      case "sdk-command":
        v.name = own(v.name);
        break;
      case "wrapped":
        if (v.id !== null) v.id = own(v.id);
        values.push(v.inner);
        break;
      case "http":
        if (v.base) values.push(v.base);
        if (v.method !== null) v.method = own(v.method);
        break;
      default:
        break; // unknown, global, sdk-module, aiguard: no text from the source
    }
  }
}
