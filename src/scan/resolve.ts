/**
 * Reduces the symbolic values a walk builds (`values.ts`) to what they stand for: variables to
 * the values assigned to them, `this.x` to the class's fields (up its superclasses), names
 * imported from another scanned module to that module's exports, calls to what the function
 * returns with the arguments in place of its parameters, `new` of an SDK class to a client.
 *
 * @module
 */
import { type SdkEntry, sdkOf } from "../catalog.ts";
import { electronMember, exposedApi } from "./electron.ts";
import { GLOBAL_FETCH, GLOBAL_WEBSOCKET } from "./http_libraries.ts";
import {
  ANY_KEY,
  type Cell,
  type ClassSummary,
  type FnSummary,
  textsOf,
  UNKNOWN,
  type Value,
} from "./values.ts";

/** What a resolution may use, and what it learnt on the way. */
export interface ResolveContext {
  /** Another scanned module's export; `undefined` while the scan has not read every module. */
  exportOf?: (module: string, name: string) => Value | undefined;
  /** Set when an import could not be followed yet: the answer may change once it can. */
  pending: boolean;
  /**
   * Set when the answer came through another scanned module, or through the overrides of an
   * abstract method (confidence is then `low`).
   */
  crossed: boolean;
  /** Set when the answer came through what a function returns. */
  calledThrough: boolean;
  /**
   * Set when the answer met an abstract method and no {@link subclassesOf} to find its
   * overrides: the scan answers again once every module is read.
   */
  open: boolean;
  /** Set when the answer went through the overrides of an abstract method. */
  dispatched: boolean;
  /** Steps taken (bounded). */
  steps: number;
  /** What is already resolved (variables, wrapper summaries), per receiver class. */
  memo: ResolveMemo;
  /** Cells, functions and imports being resolved (a cycle resolves to `unknown`). */
  active: Set<object | string>;
  /**
   * The class of the receiver whose method or field is being resolved: `this` in a superclass's
   * code stands for it (`this.constructor.defaultOptions` of the subclass).
   */
  self?: ClassSummary;
  /**
   * The classes that extend a class (directly), as far as the modules read so far tell: where
   * `this.m()` in a base class whose `m` is abstract dispatches (see {@link classMember}).
   * Without it, such a call stays unknown and is left pending.
   */
  subclassesOf?: (cls: ClassSummary) => readonly ClassSummary[];
}

/**
 * A new context; `exportOf` when every module's exports are known; `memo` shared by the contexts
 * of one file (or of the scan's second pass), since what a variable stands for does not change.
 */
export function resolveContext(
  exportOf?: (module: string, name: string) => Value | undefined,
  memo: ResolveMemo = new Map(),
  subclassesOf?: (cls: ClassSummary) => readonly ClassSummary[],
): ResolveContext {
  const ctx: ResolveContext = {
    pending: false,
    crossed: false,
    calledThrough: false,
    open: false,
    dispatched: false,
    steps: 0,
    memo,
    active: new Set(),
  };
  if (exportOf) ctx.exportOf = exportOf;
  if (subclassesOf) ctx.subclassesOf = subclassesOf;
  return ctx;
}

const MAX_DEPTH = 48;
/** Steps one context may take: far above what any site of the corpora needs (~hundreds). */
const MAX_STEPS = 20_000;
const MAX_OPTIONS = 12;
/** What a promise may stand for that the scan follows through `then` (see {@link memberOf}). */
const PROMISED: ReadonlySet<Value["k"]> = new Set([
  "sdk-module",
  "sdk-client",
  "instance",
  "wrapped",
  "http",
]);
/** String and array methods whose result is (as far as a URL goes) their receiver. */
const SAME_TEXT = new Set([
  "slice",
  "substring",
  "replace",
  "replaceAll",
  "trim",
  "trimEnd",
  "trimStart",
  "toString",
  "toLowerCase",
  "concat",
  "href",
  "toJSON",
]);
/** What `x[key]` with a key known only at run time can be followed through. */
const ANY_KEY_HOLDERS: ReadonlySet<Value["k"]> = new Set([
  "obj",
  "array",
  "either",
  "param",
  "member",
]);
/** Properties of a `URL` that the scan reads as text: `href` is the URL, `origin` its start. */
const URL_TEXT = new Set(["href", "origin"]);

/** `url.origin` of a URL known as text: `scheme://host` of each alternative that spells one. */
function originOf(value: Value): Value {
  const out: Value[] = [];
  for (const t of textsOf(value)) {
    const origin = /^([a-z][a-z0-9+.-]*:\/\/[^/?#*]+)/i.exec(t.text)?.[1];
    out.push(origin === undefined ? UNKNOWN : { k: "str", text: origin });
  }
  return either(out);
}

/** `url.hostname` (`host`) of a URL known as text: the host of each alternative that spells one. */
function hostOf(value: Value): Value {
  const out: Value[] = [];
  for (const t of textsOf(value)) {
    const host = /^[a-z][a-z0-9+.-]*:\/\/([^/?#*]+)(?:[/?#]|$)/i.exec(t.text)?.[1];
    out.push(host === undefined ? UNKNOWN : { k: "str", text: host });
  }
  return either(out);
}

function either(options: Value[]): Value {
  const flat: Value[] = [];
  for (const o of options) {
    for (const x of o.k === "either" ? o.options : [o]) {
      if (x.k !== "unknown" && !flat.includes(x) && flat.length < MAX_OPTIONS) {
        flat.push(x);
      }
    }
  }
  if (flat.length === 0) return UNKNOWN;
  return flat.length === 1 ? flat[0]! : { k: "either", options: flat };
}

/**
 * The first alternative of a resolved value that is of kind `k` (the value itself, or one option
 * of an `either`).
 *
 * @example
 * ```ts
 * import { optionOf } from "./resolve.ts";
 * optionOf({ k: "either", options: [{ k: "unknown" }, { k: "str", text: "x" }] }, "str"); // { k: "str", text: "x" }
 * ```
 */
export function optionOf<K extends Value["k"]>(
  v: Value,
  k: K,
): Extract<Value, { k: K }> | undefined {
  if (v.k === k) return v as Extract<Value, { k: K }>;
  if (v.k === "either") {
    return v.options.find((o) => o.k === k) as
      | Extract<Value, { k: K }>
      | undefined;
  }
  return undefined;
}

/**
 * What a value stands for, as far as the context lets the scan follow it.
 *
 * @example
 * ```ts
 * import { resolveContext, resolveValue } from "./resolve.ts";
 * const cell = { values: [{ k: "str", text: "https://api.openai.com" } as const] };
 * resolveValue({ k: "cell", cell }, resolveContext()); // { k: "str", text: "https://api.openai.com" }
 * ```
 */
export function resolveValue(v: Value, ctx: ResolveContext, depth = 0): Value {
  // A budget per resolution: code with many fields and alternatives cannot make it exponential.
  if (depth > MAX_DEPTH || ++ctx.steps > MAX_STEPS) return UNKNOWN;
  switch (v.k) {
    case "concat": {
      const parts = v.parts.map((p) => resolveValue(p, ctx, depth + 1));
      if (parts.every((p) => p.k === "str")) {
        return {
          k: "str",
          text: parts.map((p) => (p as { text: string }).text).join(""),
        };
      }
      return { k: "concat", parts };
    }
    case "either":
      return either(v.options.map((o) => resolveValue(o, ctx, depth + 1)));
    case "urljoin":
      return {
        k: "urljoin",
        path: resolveValue(v.path, ctx, depth + 1),
        base: resolveValue(v.base, ctx, depth + 1),
      };
    case "cell":
      return resolveCell(v.cell, ctx, depth);
    case "typed": {
      const t = resolveValue(v.type, ctx, depth + 1);
      // A type alias another module exports: what a value of it is, said there.
      return t.k === "alias" ? resolveValue(t.value, ctx, depth + 1) : instanceOf(t);
    }
    case "import":
      return resolveImport(v.module, v.name, ctx, depth);
    case "member": {
      if (v.object.k === "import" && v.object.name === "*") {
        return resolveImport(v.object.module, v.name, ctx, depth);
      }
      const assigned = v.object.k === "cell" ? v.object.cell.members?.get(v.name) : undefined;
      const object = resolveValue(v.object, ctx, depth + 1);
      const found = memberOf(object, v.name, ctx, depth + 1);
      return assigned ? either([resolveCell(assigned, ctx, depth), found]) : found;
    }
    case "call": {
      const callee = resolveValue(v.callee, ctx, depth + 1);
      const result = callResult(callee, v.args, v.isNew, ctx, depth + 1);
      if (
        result.k === "unknown" && v.callee.k === "member" &&
        v.callee.name === "pipe"
      ) {
        return pipedModel(v.args, ctx, depth + 1);
      }
      if (
        result.k === "unknown" && v.callee.k === "member" &&
        v.callee.name === "from"
      ) {
        return sequencedModel(v.callee.object, v.args[0], ctx, depth + 1);
      }
      return result;
    }
    case "method": {
      const receiver = resolveValue(v.receiver, ctx, depth + 1);
      // A property of a parameter's URL (`base.origin`), read once the argument is in place.
      if (
        URL_TEXT.has(v.name) && receiver.k !== "param" &&
        receiver.k !== "member"
      ) {
        return memberOf(receiver, v.name, ctx, depth + 1);
      }
      return { k: "method", receiver, name: v.name };
    }
    case "this":
      return ctx.self && ctx.self !== v.cls &&
          inherits(ctx.self, v.cls, ctx, depth)
        ? { k: "this", cls: ctx.self }
        : v;
    default:
      return v;
  }
}

/** Whether `sub` is `sup` or extends it. */
function inherits(
  sub: ClassSummary,
  sup: ClassSummary,
  ctx: ResolveContext,
  depth: number,
) {
  let c: ClassSummary | null = sub;
  for (let hops = 0; c && hops < 8; hops++) {
    if (c === sup) return true;
    const next: Value = c.superclass ? resolveValue(c.superclass, ctx, depth + 1) : UNKNOWN;
    c = next.k === "class" ? next.cls : null;
  }
  return false;
}

/**
 * Runs `resolve` with `this` standing for an instance of `self`.
 *
 * @example
 * ```ts ignore
 * withSelf(ctx, subclass, () => resolveValue(thisDotApiBase, ctx));
 * ```
 */
export function withSelf<T>(
  ctx: ResolveContext,
  self: ClassSummary | undefined,
  resolve: () => T,
): T {
  if (!self) return resolve();
  const saved = ctx.self;
  ctx.self = self;
  try {
    return resolve();
  } finally {
    if (saved) ctx.self = saved;
    else delete ctx.self;
  }
}

function instanceOf(t: Value): Value {
  if (t.k === "sdk-class") {
    return { k: "sdk-client", entry: t.entry, name: t.name, path: [] };
  }
  if (t.k === "class") return { k: "instance", cls: t.cls };
  if (t.k === "either") return either(t.options.map(instanceOf));
  return UNKNOWN;
}

/** What a resolution found, with what it learnt on the way (replayed on a cache hit). */
export interface Memo {
  /** The receiver class it was found for ({@link ResolveContext.self}), else the owner itself. */
  key: object;
  /** The answer. */
  value: unknown;
  /**
   * What the context learnt while answering ({@link ResolveContext.pending}, `crossed`,
   * `calledThrough`, `open`, `dispatched`), as bits ({@link PENDING} …).
   */
  flags: number;
}

/** {@link Memo.flags}: `pending` was set. */
const PENDING = 1;
/** {@link Memo.flags}: `crossed` was set. */
const CROSSED = 2;
/** {@link Memo.flags}: `calledThrough` was set. */
const CALLED_THROUGH = 4;
/** {@link Memo.flags}: `open` was set. */
const OPEN = 8;
/** {@link Memo.flags}: `dispatched` was set. */
const DISPATCHED = 16;

/**
 * Answers kept across the contexts of one file (or of the scan's second pass), by owner: its one
 * answer, or a map of its answers by receiver class once it has several. Most owners have one
 * (a map each was ~9 of the 17 MiB the scan's `readMemo` held on the 1.57M-line SDK tree).
 */
export type ResolveMemo = Map<object, Memo | Map<object, Memo>>;

/** What the context learnt so far, as {@link Memo.flags}; then cleared. */
function takeFlags(ctx: ResolveContext): number {
  const bits = (ctx.pending ? PENDING : 0) | (ctx.crossed ? CROSSED : 0) |
    (ctx.calledThrough ? CALLED_THROUGH : 0) | (ctx.open ? OPEN : 0) |
    (ctx.dispatched ? DISPATCHED : 0);
  ctx.pending =
    ctx.crossed =
    ctx.calledThrough =
    ctx.open =
    ctx.dispatched =
      false;
  return bits;
}

/** Sets what {@link Memo.flags} `bits` say was learnt (what is set already stays set). */
function addFlags(ctx: ResolveContext, bits: number): void {
  if (bits === 0) return;
  ctx.pending ||= (bits & PENDING) !== 0;
  ctx.crossed ||= (bits & CROSSED) !== 0;
  ctx.calledThrough ||= (bits & CALLED_THROUGH) !== 0;
  ctx.open ||= (bits & OPEN) !== 0;
  ctx.dispatched ||= (bits & DISPATCHED) !== 0;
}

/**
 * `compute()`, once per `owner` and receiver class: what a variable or a function's summary
 * resolves to does not change between the calls of a file.
 *
 * @example
 * ```ts ignore
 * const value = cached(ctx, cell, () => either(cell.values.map((v) => resolveValue(v, ctx))));
 * ```
 */
export function cached<T>(
  ctx: ResolveContext,
  owner: object,
  compute: () => T,
): T {
  const key = ctx.self ?? owner;
  const known = ctx.memo.get(owner);
  const memo = known instanceof Map ? known.get(key) : known?.key === key ? known : undefined;
  if (memo) {
    addFlags(ctx, memo.flags);
    return memo.value as T;
  }
  const before = takeFlags(ctx);
  const value = compute();
  const found: Memo = { key, value, flags: takeFlags(ctx) };
  // Looked up again: `compute` may have answered for this owner too (a cycle through `self`).
  const now = ctx.memo.get(owner);
  if (now === undefined) ctx.memo.set(owner, found);
  else if (now instanceof Map) now.set(key, found);
  else if (now.key === key) ctx.memo.set(owner, found);
  else ctx.memo.set(owner, new Map([[now.key, now], [key, found]]));
  addFlags(ctx, before | found.flags);
  return value;
}

function resolveCell(cell: Cell, ctx: ResolveContext, depth: number): Value {
  if (ctx.active.has(cell)) return UNKNOWN;
  return cached(ctx, cell, () => {
    ctx.active.add(cell);
    try {
      return either(cell.values.map((x) => resolveValue(x, ctx, depth + 1)));
    } finally {
      ctx.active.delete(cell);
    }
  });
}

function resolveImport(
  module: string,
  name: string,
  ctx: ResolveContext,
  depth: number,
): Value {
  if (!ctx.exportOf) {
    ctx.pending = true;
    return UNKNOWN;
  }
  const key = `${module}\0${name}`;
  const found = ctx.exportOf(module, name);
  if (found === undefined || ctx.active.has(key)) return UNKNOWN;
  ctx.crossed = true;
  ctx.active.add(key);
  try {
    return resolveValue(found, ctx, depth + 1);
  } finally {
    ctx.active.delete(key);
  }
}

/**
 * A field, method or static of a class or its superclasses. On `this` whose class is not known
 * beyond `cls` (`open`), an abstract method (`FnSummary.abstract`) stands for its overrides in
 * the subclasses.
 */
function classMember(
  cls: ClassSummary,
  name: string,
  isStatic: boolean,
  ctx: ResolveContext,
  depth: number,
  open = false,
): Value {
  if (name === "constructor" && !isStatic) return { k: "class", cls };
  for (let c: ClassSummary | null = cls, hops = 0; c && hops < 8; hops++) {
    const cell = (isStatic ? c.statics : c.fields).get(name);
    if (cell) return withSelf(ctx, cls, () => resolveCell(cell, ctx, depth));
    const method = isStatic ? undefined : c.methods.get(name);
    if (method) {
      const own: Value = { k: "fn", fn: method, self: cls };
      // One whose declared return type the scan knows (`abstract model(): BaseChatModel`) says it.
      if (!open || !method.abstract || method.returns.length > 0) return own;
      // Once per class and method: a base class's code calls its abstract methods often.
      const found = withSelf(
        ctx,
        cls,
        () =>
          cached(
            ctx,
            dispatchKey(method),
            () => overrides(cls, name, ctx, depth),
          ),
      );
      return found ?? own;
    }
    const sup: Value = c.superclass ? resolveValue(c.superclass, ctx, depth + 1) : UNKNOWN;
    if (sup.k === "sdk-class" && !isStatic) {
      // A class extending an SDK client (`class Client extends OpenAI`): `this` is a client.
      return memberOf(
        { k: "sdk-client", entry: sup.entry, name: sup.name, path: [] },
        name,
        ctx,
        depth,
      );
    }
    c = sup.k === "class" ? sup.cls : null;
  }
  return UNKNOWN;
}

/** The memo's owner for an abstract method's overrides (the method itself owns its templates). */
const DISPATCH_KEYS = new WeakMap<FnSummary, object>();
function dispatchKey(method: FnSummary): object {
  let key = DISPATCH_KEYS.get(method);
  if (key === undefined) {
    key = {};
    DISPATCH_KEYS.set(method, key);
  }
  return key;
}

/** Most subclasses (all levels) the overrides of an abstract method are looked for in. */
const MAX_SUBCLASSES = 64;

/**
 * Most overrides an abstract method stands for. A method with more is a plugin point whose
 * implementation the data picks (Hugging Face's task helpers, one per provider and task): the
 * first override that reaches a provider would name one implementation's endpoint for every
 * task, so the method stays as it is.
 */
const MAX_OVERRIDES = 12;

/**
 * The overrides of method `name` in the classes extending `cls` (at any depth), as functions
 * with their class as `this`; `null` when none is known. An answer through them is inferred
 * (`crossed`). Without {@link ResolveContext.subclassesOf}, the answer is `open`.
 */
function overrides(
  cls: ClassSummary,
  name: string,
  ctx: ResolveContext,
  depth: number,
) {
  if (!ctx.subclassesOf) {
    ctx.pending = ctx.open = true;
    return null;
  }
  const queue: ClassSummary[] = [...ctx.subclassesOf(cls)];
  const seen = new Set<ClassSummary>(queue);
  for (let i = 0; i < queue.length && queue.length <= MAX_SUBCLASSES; i++) {
    for (const next of ctx.subclassesOf(queue[i]!)) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  if (queue.length > MAX_SUBCLASSES) return null;
  const found: Value[] = [];
  for (const sub of queue) {
    const method = sub.methods.get(name);
    const field = sub.fields.get(name);
    if (method) found.push({ k: "fn", fn: method, self: sub });
    else if (field) {
      found.push(withSelf(ctx, sub, () => resolveCell(field, ctx, depth + 1)));
    }
    if (found.length > MAX_OVERRIDES) return null;
  }
  const value = either(found);
  if (value.k === "unknown") return null;
  ctx.crossed = ctx.dispatched = true;
  return value;
}

/** What `object.name` stands for. */
export function memberOf(
  object: Value,
  name: string,
  ctx: ResolveContext,
  depth: number,
): Value {
  if (depth > MAX_DEPTH) return UNKNOWN;
  // `await` is transparent to the scan, so a promise of a module or client is that module or
  // client, and its `then` hands it to a callback (`import("openai").then(({ OpenAI }) => …)`).
  if (name === "then" && PROMISED.has(object.k)) {
    return { k: "method", receiver: object, name };
  }
  // Only a literal's members are enumerable: `client[method]` is not a known method.
  if (name === ANY_KEY && !ANY_KEY_HOLDERS.has(object.k)) return UNKNOWN;
  switch (object.k) {
    case "either":
      return either(
        object.options.map((o) => memberOf(o, name, ctx, depth + 1)),
      );
    case "sdk-module":
      return sdkMember(object.entry, name);
    case "aiguard":
      return name === "attest" || name === "wrap" ? { k: "aiguard", member: name } : UNKNOWN;
    case "sdk-client":
      return { ...object, path: [...object.path, name] };
    case "wrapped":
      return { ...object, inner: memberOf(object.inner, name, ctx, depth + 1) };
    case "obj": {
      // `SOURCES[source]`: a key known only at run time may pick any of the object's values.
      if (name === ANY_KEY) {
        return either(
          [...object.props.values()].map((p) => resolveValue(p, ctx, depth + 1)),
        );
      }
      const found = object.props.get(name);
      if (found) return resolveValue(found, ctx, depth + 1);
      // `{ ...defaults, ...options }`: the later spread wins at run time; either may give it.
      const spread = (object.spreads ?? []).map((o) =>
        memberOf(resolveValue(o, ctx, depth + 1), name, ctx, depth + 1)
      );
      return either(spread);
    }
    case "instance":
      return classMember(object.cls, name, false, ctx, depth);
    case "this":
      return classMember(object.cls, name, false, ctx, depth, true);
    case "class":
      return classMember(object.cls, name, true, ctx, depth);
    case "http":
      // `require("node-fetch").default`, `undici.fetch`: the client itself.
      if (
        object.method === null &&
        (name === "default" || object.lib.exports.includes(name))
      ) {
        return object;
      }
      if (object.method === null && object.lib.methods.has(name)) {
        return { ...object, method: name };
      }
      if (object.method === null && object.lib.factories.has(name)) {
        return { ...object, method: `.${name}` };
      }
      return UNKNOWN;
    case "global":
      if (
        name === "fetch" &&
        /^(?:globalThis|window|self|global)$/.test(object.name)
      ) {
        return { k: "http", lib: GLOBAL_FETCH, base: null, method: null };
      }
      if (
        name === "WebSocket" &&
        /^(?:globalThis|window|self|global)$/.test(object.name)
      ) {
        return { k: "http", lib: GLOBAL_WEBSOCKET, base: null, method: null };
      }
      // Electron: `ipcRenderer.invoke`, and `window.api` that a preload script exposes.
      return electronMember(object.name, name) ?? exposedApi(object.name, name, ctx) ?? UNKNOWN;
    case "array":
      if (name === ANY_KEY) {
        return either(
          object.items.map((item) => resolveValue(item, ctx, depth + 1)),
        );
      }
      if (/^\d+$/.test(name)) {
        const item = object.items[Number(name)];
        return item ? resolveValue(item, ctx, depth + 1) : UNKNOWN;
      }
      // `[base, path].filter(Boolean).join("/")`: the parts, as far as a URL goes.
      return SAME_TEXT.has(name) || name === "join" || name === "toString" ||
          name === "filter"
        ? { k: "method", receiver: object, name }
        : UNKNOWN;
    case "str":
    case "concat":
    case "urljoin":
      if (name === "href") return object;
      if (name === "origin") return originOf(object);
      if (name === "hostname" || name === "host") return hostOf(object);
      return SAME_TEXT.has(name) || name === "join" || name === "toString"
        ? { k: "method", receiver: object, name }
        : UNKNOWN;
    case "param":
    case "member":
    case "call":
      // Kept symbolic: a caller's argument may fill it in (`options.baseURL`, `url.toString()`,
      // `(await makeDispatch()).request` of a function parameter).
      return SAME_TEXT.has(name) || URL_TEXT.has(name)
        ? { k: "method", receiver: object, name }
        : { k: "member", object, name };
    case "cell": {
      const assigned = object.cell.members?.get(name);
      return assigned ? resolveCell(assigned, ctx, depth) : UNKNOWN;
    }
    default:
      return UNKNOWN;
  }
}

/** A named export of an SDK package. */
export function sdkMember(e: SdkEntry, name: string): Value {
  const again = e.reexports?.[name];
  const other = again ? sdkOf(again[0]) : undefined;
  if (again && other) return sdkMember(other, again[1]);
  if (name === "default" && e.clients.default) {
    return { k: "sdk-class", entry: e, name: "default", typeOnly: false };
  }
  if (e.clients[name] !== undefined && name !== "default") {
    return { k: "sdk-class", entry: e, name, typeOnly: false };
  }
  if (e.instances?.includes(name)) {
    return { k: "sdk-client", entry: e, name, path: [] };
  }
  if (e.functions?.[name] !== undefined || e.factories?.[name] !== undefined) {
    return { k: "sdk-function", entry: e, name };
  }
  if (e.commands?.[name]) return { k: "sdk-command-class", entry: e, name };
  if (e.namespaces?.includes(name)) return { k: "sdk-module", entry: e };
  return UNKNOWN;
}

/** The literal `id` of an attest options object (`{ id: "x" }`), if any. */
export function attestIdOf(
  options: Value | undefined,
  ctx: ResolveContext,
): string | null {
  if (!options) return null;
  const o = optionOf(resolveValue(options, ctx), "obj");
  const id = o?.props.get("id");
  const v = id ? optionOf(resolveValue(id, ctx), "str") : undefined;
  return v ? v.text : null;
}

/**
 * `prompt.pipe(model)`: a sequence ending in a model is called as the model is (`.invoke()`),
 * whatever comes before it.
 */
function pipedModel(args: Value[], ctx: ResolveContext, depth: number): Value {
  for (const a of args) {
    const r = resolveValue(a, ctx, depth);
    for (const o of r.k === "either" ? r.options : [r]) {
      if (
        o.k === "sdk-client" && o.path.length === 0 &&
        o.entry.chains?.includes("pipe")
      ) return o;
    }
  }
  return UNKNOWN;
}

/**
 * A framework's sequence of steps (`RunnableSequence.from([prompt, model, parser])`), read as the
 * model among its steps, as `prompt.pipe(model)` is: the sequence's `invoke` / `stream` calls it.
 * A sequence with no model among its steps is none.
 */
function sequencedModel(
  owner: Value,
  steps: Value | undefined,
  ctx: ResolveContext,
  depth: number,
): Value {
  if (steps === undefined || depth > MAX_DEPTH) return UNKNOWN;
  const cls = resolveValue(owner, ctx, depth);
  if (
    cls.k !== "sdk-class" || !cls.entry.framework ||
    !cls.entry.chains?.includes("pipe")
  ) {
    return UNKNOWN;
  }
  const list = resolveValue(steps, ctx, depth + 1);
  return list.k === "array" ? pipedModel(list.items, ctx, depth + 1) : UNKNOWN;
}

/** What calling (or `new`) a resolved callee gives. */
export function callResult(
  callee: Value,
  args: Value[],
  isNew: boolean,
  ctx: ResolveContext,
  depth: number,
): Value {
  if (depth > MAX_DEPTH) return UNKNOWN;
  switch (callee.k) {
    case "either":
      return either(
        callee.options.map((c) => callResult(c, args, isNew, ctx, depth + 1)),
      );
    case "fn":
      return withSelf(
        ctx,
        callee.self,
        () => returnOf(callee.fn, args, ctx, depth),
      );
    case "sdk-class":
      return isNew && !callee.typeOnly
        ? { k: "sdk-client", entry: callee.entry, name: callee.name, path: [] }
        : UNKNOWN;
    case "sdk-module":
      return isNew && callee.entry.clients.default
        ? { k: "sdk-client", entry: callee.entry, name: "default", path: [] }
        : UNKNOWN;
    case "sdk-command-class":
      return { k: "sdk-command", entry: callee.entry, name: callee.name };
    case "sdk-function": {
      const label = callee.entry.factories?.[callee.name];
      return label === undefined
        ? UNKNOWN
        : { k: "sdk-client", entry: callee.entry, name: label, path: [] };
    }
    case "sdk-client": {
      // A model configured and handed on (`model.withStructuredOutput(s).invoke(…)`).
      const last = callee.path[callee.path.length - 1];
      if (last !== undefined && callee.entry.chains?.includes(last)) {
        return { ...callee, path: callee.path.slice(0, -1) };
      }
      return UNKNOWN;
    }
    case "class":
      return isNew ? { k: "instance", cls: callee.cls } : UNKNOWN;
    case "aiguard":
      if (callee.member === "wrap" && args[0]) {
        return {
          k: "wrapped",
          inner: resolveValue(args[0], ctx, depth + 1),
          id: attestIdOf(args[1], ctx),
        };
      }
      return UNKNOWN;
    case "http": {
      if (callee.method?.startsWith(".")) {
        // axios.create({ baseURL }), ky.create({ prefixUrl }): an instance with a base URL.
        const options = optionOf(
          args[0] ? resolveValue(args[0], ctx, depth + 1) : UNKNOWN,
          "obj",
        );
        let base: Value | null = callee.base;
        if (options) {
          for (const key of callee.lib.baseKeys) {
            const b = options.props.get(key);
            if (b) base = b;
          }
        }
        return { k: "http", lib: callee.lib, base, method: null };
      }
      return UNKNOWN;
    }
    case "method": {
      const r = callee.receiver;
      if (callee.name === "then") {
        const callback = args[0] ? resolveValue(args[0], ctx, depth + 1) : UNKNOWN;
        return callback.k === "fn"
          ? withSelf(
            ctx,
            callback.self,
            () => returnOf(callback.fn, [r], ctx, depth),
          )
          : UNKNOWN;
      }
      if (callee.name === "join") {
        if (r.k !== "array") return UNKNOWN;
        const sep = args[0] ? resolveValue(args[0], ctx, depth + 1) : { k: "str", text: "," };
        const parts: Value[] = [];
        r.items.forEach((item, i) => {
          if (i > 0) parts.push(sep as Value);
          parts.push(resolveValue(item, ctx, depth + 1));
        });
        return { k: "concat", parts };
      }
      if (callee.name === "concat" && r.k !== "array") {
        return {
          k: "concat",
          parts: [r, ...args.map((a) => resolveValue(a, ctx, depth + 1))],
        };
      }
      if (
        (callee.name === "replace" || callee.name === "replaceAll") &&
        r.k === "str"
      ) {
        // A replacement the source spells out changes the text (`.replace("api.", "status.")`).
        const from = args[0] ? resolveValue(args[0], ctx, depth + 1) : UNKNOWN;
        const to = args[1] ? resolveValue(args[1], ctx, depth + 1) : UNKNOWN;
        if (from.k === "str" && to.k === "str") {
          return {
            k: "str",
            text: callee.name === "replace"
              ? r.text.replace(from.text, to.text)
              : r.text.split(from.text).join(to.text),
          };
        }
      }
      return r;
    }
    case "param":
    case "member":
      // A call on a parameter stays symbolic: the caller's argument may make it a client
      // (`(m) => new m.OpenAI()` given a module, `(make) => make()`).
      return { k: "call", callee, args, isNew };
    case "global":
      if (callee.name === "URL" && args[0]) {
        const path = resolveValue(args[0], ctx, depth + 1);
        return args[1] ? { k: "urljoin", path, base: resolveValue(args[1], ctx, depth + 1) } : path;
      }
      if (callee.name === "String" && args[0]) {
        return resolveValue(args[0], ctx, depth + 1);
      }
      return UNKNOWN;
    default:
      return UNKNOWN;
  }
}

/**
 * A value resolved with the members of the object literals in it resolved too (`{ url: host +
 * path }`): what a parameter among them stands for can then be put in (see {@link substitute}).
 *
 * @example
 * ```ts
 * import { resolveContext, resolveMembers } from "./resolve.ts";
 * const cell = { values: [{ k: "str", text: "https://api.openai.com" } as const] };
 * resolveMembers({ k: "obj", props: new Map([["url", { k: "cell", cell }]]) }, resolveContext());
 * // { k: "obj", props: Map { "url" => { k: "str", text: "https://api.openai.com" } } }
 * ```
 */
export function resolveMembers(
  v: Value,
  ctx: ResolveContext,
  depth = 0,
  level = 0,
): Value {
  const r = resolveValue(v, ctx, depth);
  if (level > 2) return r;
  const deeper = (x: Value) => resolveMembers(x, ctx, depth + 1, level + 1);
  if (r.k === "either" && r.options.some((o) => o.k === "obj")) {
    return either(r.options.map((o) => o.k === "obj" ? deeper(o) : o));
  }
  if (r.k !== "obj") return r;
  const props = new Map<string, Value>();
  for (const [key, p] of r.props) {
    // What stays unknown stays as written (`body: JSON.stringify({ … })` is a body built here).
    const resolved = deeper(p);
    props.set(key, resolved.k === "unknown" ? p : resolved);
  }
  return r.spreads ? { k: "obj", props, spreads: r.spreads.map(deeper) } : { k: "obj", props };
}

/** What a function returns for these arguments. */
function returnOf(
  fn: FnSummary,
  args: Value[],
  ctx: ResolveContext,
  depth: number,
): Value {
  if (ctx.active.has(fn) || fn.returns.length === 0) return UNKNOWN;
  ctx.active.add(fn);
  ctx.calledThrough = true;
  try {
    const out: Value[] = [];
    for (const r of fn.returns.slice(0, 6)) {
      const value = resolveMembers(r, ctx, depth + 1);
      out.push(resolveValue(substitute(value, fn, args), ctx, depth + 1));
    }
    return either(out);
  } finally {
    ctx.active.delete(fn);
  }
}

/**
 * `value` with `fn`'s parameters replaced by the arguments of a call.
 *
 * @example
 * ```ts
 * import { substitute } from "./resolve.ts";
 * const fn = { name: "path", returns: [], forwards: [], parent: null, attested: null };
 * substitute({ k: "param", fn, i: 0 }, fn, [{ k: "str", text: "chat" }]); // { k: "str", text: "chat" }
 * ```
 */
export function substitute(
  value: Value,
  fn: FnSummary,
  args: Value[],
  depth = 0,
  done: Map<Value, Value> = new Map(),
): Value {
  if (depth > 16) return value;
  // A value shared by several parts (`either` of `either`s) is put together once: the copy keeps
  // the sharing, so the work stays linear in the value's size.
  const seen = done.get(value);
  if (seen) return seen;
  const out = substituteParts(value, fn, args, depth, done);
  done.set(value, out);
  return out;
}

function substituteParts(
  value: Value,
  fn: FnSummary,
  args: Value[],
  depth: number,
  done: Map<Value, Value>,
): Value {
  const s = (v: Value) => substitute(v, fn, args, depth + 1, done);
  switch (value.k) {
    case "param":
      return value.fn === fn ? args[value.i] ?? UNKNOWN : value;
    case "concat":
      return { k: "concat", parts: value.parts.map(s) };
    case "either":
      return { k: "either", options: value.options.map(s) };
    case "urljoin":
      return { k: "urljoin", path: s(value.path), base: s(value.base) };
    case "member":
      return { k: "member", object: s(value.object), name: value.name };
    case "method":
      return { k: "method", receiver: s(value.receiver), name: value.name };
    case "call":
      return {
        k: "call",
        callee: s(value.callee),
        args: value.args.map(s),
        isNew: value.isNew,
      };
    case "array":
      return { k: "array", items: value.items.map(s) };
    case "obj": {
      const props = new Map<string, Value>();
      for (const [key, v] of value.props) props.set(key, s(v));
      // `{ ...request, signal }`: the spread object is the caller's argument too.
      return value.spreads
        ? { k: "obj", props, spreads: value.spreads.map(s) }
        : { k: "obj", props };
    }
    default:
      return value;
  }
}

/**
 * Whether a value (resolved) still holds a parameter of `fn`: an argument would fill it in.
 *
 * @example
 * ```ts
 * import { usesParam } from "./resolve.ts";
 * const fn = { name: null, returns: [], forwards: [], parent: null, attested: null };
 * usesParam({ k: "concat", parts: [{ k: "param", fn, i: 0 }] }, fn); // true
 * ```
 */
export function usesParam(value: Value, fn: FnSummary, depth = 0): boolean {
  if (depth > 16) return false;
  switch (value.k) {
    case "param":
      return value.fn === fn;
    case "concat":
      return value.parts.some((p) => usesParam(p, fn, depth + 1));
    case "either":
      return value.options.some((p) => usesParam(p, fn, depth + 1));
    case "urljoin":
      return usesParam(value.path, fn, depth + 1) ||
        usesParam(value.base, fn, depth + 1);
    case "member":
      return usesParam(value.object, fn, depth + 1);
    case "method":
      return usesParam(value.receiver, fn, depth + 1);
    case "call":
      // `make()` of a function parameter, `dispatch().request`: a caller's argument is called.
      return usesParam(value.callee, fn, depth + 1) ||
        value.args.some((a) => usesParam(a, fn, depth + 1));
    case "obj":
      for (const v of value.props.values()) {
        if (usesParam(v, fn, depth + 1)) return true;
      }
      return (value.spreads ?? []).some((v) => usesParam(v, fn, depth + 1));
    default:
      return false;
  }
}
