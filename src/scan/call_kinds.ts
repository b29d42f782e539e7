/**
 * Call kinds: whether a call is an AI call site, and which. A call is a site when an SDK method
 * is called on a value that resolves to a client or model (or an SDK function is called), or
 * when a request function (the global `fetch`, an HTTP client, or a function that passes its URL
 * on to one) receives a URL known to reach a provider host or an AI path.
 *
 * @module
 */
import { CATALOG, clientProvider, type SdkEntry } from "../catalog.ts";
import {
  cached,
  memberOf,
  optionOf,
  type ResolveContext,
  resolveMembers,
  resolveValue,
  substitute,
  usesParam,
  withSelf,
} from "./resolve.ts";
import { GLOBAL_FETCH, GLOBAL_WEBSOCKET } from "./http_libraries.ts";
import { buildsBody, modelBodyOf, modelRequestOf } from "./request_bodies.ts";
import { classifyText, classifyUrl } from "./url_kinds.ts";
import {
  type CallPosition,
  type FnSummary,
  PARAM_MARK,
  textsOf,
  UNKNOWN,
  type UrlText,
  type Value,
  withParamMarks,
} from "./values.ts";

/** What a site is. */
export interface SiteFacts {
  /** GenAI provider name (`openai_compatible` when only the path is known). */
  provider: string;
  /** The SDK or request function (`openai`, `fetch`, `axios`). */
  library: string;
  /** The method path, or the request's method and URL. */
  target: string;
  /** GenAI operation name, if known. */
  operation: string | null;
  /** `high` when the request function (or SDK method) and the target are both known. */
  confidence: "high" | "low";
  /** Set when the call goes through a `wrap()`ped client: its attest `id` (or `null`). */
  wrappedId?: string | null;
  /** Set when the request is made in a function this call calls: the function and the call in it. */
  through?: Through;
  /**
   * Set when the request's path is a parameter of this function (a transport helper): the site
   * is its callers', if the scanned code calls it.
   */
  pathFrom?: FnSummary;
  /** Set while a site is known only by its body, the URL a configured one (see `classifyCall`). */
  configured?: true;
}

/** The function a call reaches the request through, and its call that passes the URL on. */
export interface Through {
  fn: FnSummary;
  at: CallPosition;
  /** The same of the function that call calls, when it builds the URL from what it is given. */
  inner?: Through;
  /**
   * Set when the function's callers give it only a function that makes the request's URL (a
   * dispatch creator it calls): the request is not theirs but the one its call sends.
   */
  factory?: boolean;
}

/** The catalog's distinctive method paths, each with the SDK it is read as, in catalog order. */
const DISTINCTIVE: ReadonlyArray<readonly [path: string, entry: SdkEntry]> = CATALOG.flatMap((
  entry,
) => (entry.distinctive ?? []).map((path) => [path, entry] as const));

/**
 * The method paths {@link distinctiveSite} reports: a file naming none of them (and no SDK or
 * request function) cannot hold such a site.
 *
 * @example
 * ```ts
 * import { DISTINCTIVE_PATHS } from "./call_kinds.ts";
 * DISTINCTIVE_PATHS.includes("messages.create"); // true
 * ```
 */
export const DISTINCTIVE_PATHS: readonly string[] = DISTINCTIVE.map(([path]) => path);

/**
 * A method path that only an SDK has, called on a receiver nobody declares: a low-confidence site.
 *
 * @example
 * ```ts
 * import { distinctiveSite } from "./call_kinds.ts";
 * distinctiveSite("client.chat.completions.create")?.target; // "openai.chat.completions.create"
 * ```
 */
export function distinctiveSite(path: string): SiteFacts | null {
  for (const [distinctive, entry] of DISTINCTIVE) {
    if (path.endsWith(distinctive)) {
      return {
        provider: entry.provider,
        library: entry.library,
        target: `${entry.library}.${distinctive}`,
        operation: entry.methods[distinctive] ?? null,
        confidence: "low",
      };
    }
  }
  return null;
}

/**
 * What a call is, given its callee and arguments (symbolic), or `null` when it is no site.
 *
 * @example
 * ```ts
 * import { classifyCall } from "./call_kinds.ts";
 * import { resolveContext } from "./resolve.ts";
 * classifyCall({ k: "global", name: "fetch" }, [{ k: "str", text: "https://api.openai.com/v1/embeddings" }], resolveContext())?.target;
 * // "fetch GET api.openai.com/v1/embeddings"
 * ```
 */
export function classifyCall(
  callee: Value,
  args: Value[],
  ctx: ResolveContext,
  inFn: FnSummary | null = null,
): SiteFacts | null {
  const c = resolveValue(callee, ctx);
  const facts = kindOf(c, args, ctx, undefined) ?? boundMethodHandedOn(args, ctx);
  if (facts?.configured) {
    // A URL the enclosing function is given is its callers' to say, not a configured base.
    delete facts.configured;
    for (let fn = inFn; fn; fn = fn.parent) {
      const request = withParamMarks(fn, () => requestOf(c, args, ctx, 0));
      if (request?.urls.some((u) => u.text.includes(PARAM_MARK))) return null;
    }
  }
  if (facts && !isSdkSite(c)) {
    // A request whose path the enclosing function's parameters give: where the scanned code calls
    // that function, its callers are the sites (the scan drops this one then).
    for (let fn = inFn; fn; fn = fn.parent) {
      if (pathFromParams({ callee: c, args, inferred: false }, fn, ctx, args)) {
        facts.pathFrom = fn;
        break;
      }
    }
  }
  return facts;
}

/**
 * An SDK method bound to its client and handed to a caller that calls it (`caller.call(opts,
 * client.chatCompletion.bind(client), args)`, a retry or queue helper): the call handing it on is
 * the site, at low confidence (the call itself is made inside the helper).
 */
function boundMethodHandedOn(args: Value[], ctx: ResolveContext): SiteFacts | null {
  for (const a of args.slice(0, 3)) {
    if (a.k !== "call" || a.callee.k !== "member" || a.callee.name !== "bind") continue;
    const method = resolveValue(a.callee.object, ctx);
    for (const m of method.k === "either" ? method.options : [method]) {
      if (m.k !== "sdk-client" || m.path.length === 0) continue;
      const facts = kindOf(m, [], ctx, undefined);
      if (facts) return { ...facts, confidence: "low" };
    }
  }
  return null;
}

function isSdkSite(c: Value): boolean {
  return c.k === "sdk-client" || c.k === "sdk-function" || c.k === "wrapped" ||
    (c.k === "either" && c.options.some(isSdkSite));
}

function kindOf(
  c: Value,
  args: Value[],
  ctx: ResolveContext,
  wrappedId: string | null | undefined,
): SiteFacts | null {
  switch (c.k) {
    case "either": {
      for (const option of c.options) {
        const found = kindOf(option, args, ctx, wrappedId);
        if (found) return found;
      }
      return null;
    }
    case "wrapped":
      return kindOf(c.inner, args, ctx, c.id);
    case "sdk-function": {
      const operation = c.entry.functions?.[c.name];
      if (operation === undefined) return null;
      return withWrap({
        provider: c.entry.provider,
        library: c.entry.library,
        target: `${c.entry.library}.${c.name}`,
        operation,
        confidence: "high",
      }, wrappedId);
    }
    case "sdk-client": {
      const facts = sdkMethod(c, args, ctx);
      // A client a function of another module returns (a factory): inferred, not seen.
      if (facts && ctx.crossed && ctx.calledThrough) facts.confidence = "low";
      return withWrap(facts, wrappedId);
    }
    default: {
      const request = requestOf(c, args, ctx, 0);
      if (!request) return null;
      const facts = classifyUrl(request.urls, request.method, request.via) ??
        configuredBaseSite(c, request, args, ctx);
      if (!facts) return null;
      if (request.inferred || ctx.crossed) facts.confidence = "low";
      if (request.through) facts.through = request.through;
      return withWrap(facts, wrappedId);
    }
  }
}

function withWrap(facts: SiteFacts | null, wrappedId: string | null | undefined) {
  if (facts && wrappedId !== undefined) facts.wrappedId = wrappedId;
  return facts;
}

function sdkMethod(
  c: Extract<Value, { k: "sdk-client" }>,
  args: Value[],
  ctx: ResolveContext,
): SiteFacts | null {
  const entry = c.entry;
  const key = c.path.join(".");
  const label = entry.clients[c.name] ?? entry.factories?.[c.name] ?? entry.library;
  const provider = clientProvider(entry, c.name);
  if (entry.commands && key === "send") {
    const command = optionOf(args[0] ? resolveValue(args[0], ctx) : UNKNOWN, "sdk-command");
    const known = command && command.entry === entry ? entry.commands[command.name] : undefined;
    if (!known) return null;
    return {
      provider,
      library: entry.library,
      target: `${entry.library}.${known[0]}`,
      operation: known[1],
      confidence: "high",
    };
  }
  if (!Object.prototype.hasOwnProperty.call(entry.methods, key)) return null;
  const target = entry.framework ? `${entry.library}.${label}.${key}` : `${label}.${key}`;
  return {
    provider,
    library: entry.library,
    target,
    operation: entry.methods[key] ?? null,
    confidence: "high",
  };
}

interface Request {
  via: string;
  urls: UrlText[];
  method: string;
  /** The request function is only taken for one (a function named `fetch` the scan cannot read). */
  inferred: boolean;
  through?: Through;
}

/** The HTTP method an init/options object names, if it does. */
function methodOf(init: Value | undefined, ctx: ResolveContext): string | null {
  if (!init) return null;
  const o = optionOf(resolveValue(init, ctx), "obj");
  const v = o ? optionOf(memberOf(o, "method", ctx, 0), "str") : undefined;
  return v ? v.text.toUpperCase() : null;
}

/** axios' `combineURLs`, ky's `prefixUrl`: one `/` between a base and a relative URL. */
function withBase(bases: UrlText[], urls: UrlText[]): UrlText[] {
  const out: UrlText[] = [];
  for (const u of urls) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u.text)) {
      out.push(u);
      continue;
    }
    for (const b of bases) {
      out.push({
        text: `${b.text.replace(/\/+$/, "")}/${u.text.replace(/^\/+/, "")}`,
        exact: b.exact && u.exact,
      });
    }
  }
  return out;
}

/** The URL and method of a call to a request function, or `null` when the callee is none. */
function requestOf(c: Value, args: Value[], ctx: ResolveContext, depth: number): Request | null {
  if (depth > 6) return null;
  if (c.k === "either") {
    // `(options.fetch ?? globalThis.fetch)(url)`: the request function among the options.
    for (const option of c.options) {
      const found = requestOf(option, args, ctx, depth + 1);
      if (found) return found;
    }
    return null;
  }
  if (c.k === "global" && (c.name === "fetch" || c.name === "WebSocket")) {
    const lib = c.name === "fetch" ? GLOBAL_FETCH : GLOBAL_WEBSOCKET;
    return requestOf({ k: "http", lib, base: null, method: null }, args, ctx, depth);
  }
  if (c.k === "http") {
    const lib = c.lib;
    if (c.method?.startsWith(".")) return null; // a factory: makes an instance, sends nothing
    if (c.method === null && !lib.callable) return null;
    let url: Value | undefined = args[0];
    let base: Value | null = c.base;
    let verb = c.method && c.method !== "request" && c.method !== "stream"
      ? c.method.toUpperCase()
      : null;
    const first = optionOf(url ? resolveValue(url, ctx) : UNKNOWN, "obj");
    if (lib.config && first) {
      // axios({ url, method, baseURL })
      url = first.props.get("url");
      for (const key of lib.baseKeys) base = first.props.get(key) ?? base;
      verb ??= methodOf(first, ctx);
    } else {
      const options = args[1];
      verb ??= methodOf(options, ctx);
      const o = optionOf(options ? resolveValue(options, ctx) : UNKNOWN, "obj");
      if (o) { for (const key of lib.baseKeys) base = o.props.get(key) ?? base; }
    }
    if (!url) return null;
    let urls = textsOf(resolveValue(url, ctx));
    if (base) urls = withBase(textsOf(resolveValue(base, ctx)), urls);
    return { via: lib.via, urls, method: verb ?? "GET", inferred: false };
  }
  if (c.k === "fn") {
    const fn = c.fn;
    return withSelf(ctx, c.self, () => wrapperRequest(fn, args, ctx, depth));
  }
  return null;
}

/** What a function passes on to a request function: its callee and arguments, with parameters. */
interface Template {
  callee: Value;
  args: Value[];
  inferred: boolean;
  through?: Through;
}

/** A parameter as it is (`url`), not a member of it nor a URL built with it. */
function isBareParam(v: Value | undefined): boolean {
  if (v?.k === "cell") return v.cell.values.length === 1 && isBareParam(v.cell.values[0]);
  return v?.k === "param";
}

function isRequestFunction(c: Value): boolean {
  if (c.k === "global") return c.name === "fetch" || c.name === "WebSocket";
  if (c.k !== "http") return false;
  if (c.method === null) return c.lib.callable;
  return !c.method.startsWith(".");
}

/**
 * The request a function makes with its parameters in the URL (`request(path)` doing
 * `fetch(BASE + path)`, through any number of such functions), or `null`. Computed once per
 * function: a call then only puts its arguments in.
 */
function templateOf(fn: FnSummary, ctx: ResolveContext): Template[] {
  if (ctx.active.has(fn)) return [];
  return cached(ctx, fn, () => {
    ctx.active.add(fn);
    try {
      // Every request the function makes with its parameters (a token, then the AI call), in
      // source order, a few at most.
      const out: Template[] = [];
      for (const forward of fn.forwards) {
        if (out.length >= MAX_TEMPLATES) break;
        const callee = resolveValue(forward.callee, ctx);
        // An object's members resolved (`fetch(url, { method, body })`): a parameter in a
        // variable there is put in by the callers' arguments too.
        const inner = forward.args.map((a) => {
          const r = resolveValue(a, ctx);
          return r.k === "obj" ? resolveMembers(r, ctx) : r;
        });
        for (const c of callee.k === "either" ? callee.options : [callee]) {
          for (const found of forwarded(c, inner, fn, ctx, forward.fetchParam === true)) {
            if (out.length >= MAX_TEMPLATES) break;
            // A function that hands a whole URL parameter on (`get(url, init)`) is a request
            // function of its own, whatever its callers: only one that builds the URL from what
            // it is given (`route.endpoint`, `${base}${path}`) may be where its one caller's
            // request is. A function handed on as it is (a dispatch creator) is no URL: the
            // request is made where the URL it makes is sent.
            const { through, ...rest } = found;
            const url = rest.args[0] ? resolveValue(rest.args[0], ctx) : UNKNOWN;
            const factory = paramUse(url, fn, 0) === "called";
            if (!forward.at || (isBareParam(forward.args[0]) && !factory)) out.push(rest);
            else {
              const t = throughOf(fn, forward.at, through);
              if (factory) t.factory = true;
              out.push({ ...rest, through: t });
            }
          }
        }
      }
      if (out.length === 0 && fn.name === "fetch") {
        // A function named fetch whose body the scan cannot follow (a desktop bridge, a patched
        // node-fetch): taken for a fetch, at low confidence.
        out.push({
          callee: { k: "global", name: "fetch" },
          args: [{ k: "param", fn, i: 0 }, { k: "param", fn, i: 1 }],
          inferred: true,
        });
      }
      return out;
    } finally {
      ctx.active.delete(fn);
    }
  });
}

/**
 * How a value uses `fn`'s parameters: not at all, only by calling one (`(await creator()).url`),
 * or otherwise (`route.url`, `${base}${path}`).
 */
function paramUse(value: Value, fn: FnSummary, depth: number): "none" | "called" | "direct" {
  if (depth > 16) return "none";
  let found: "none" | "called" | "direct" = "none";
  const join = (use: "none" | "called" | "direct") => {
    if (use === "direct" || found === "direct") found = "direct";
    else if (use === "called") found = "called";
  };
  switch (value.k) {
    case "param":
      return value.fn === fn ? "direct" : "none";
    case "call":
      if (value.callee.k === "param" && value.callee.fn === fn) join("called");
      else join(paramUse(value.callee, fn, depth + 1));
      for (const a of value.args) join(paramUse(a, fn, depth + 1));
      return found;
    case "concat":
      for (const p of value.parts) join(paramUse(p, fn, depth + 1));
      return found;
    case "either":
      for (const o of value.options) join(paramUse(o, fn, depth + 1));
      return found;
    case "urljoin":
      join(paramUse(value.path, fn, depth + 1));
      join(paramUse(value.base, fn, depth + 1));
      return found;
    case "member":
      return paramUse(value.object, fn, depth + 1);
    case "method":
      return paramUse(value.receiver, fn, depth + 1);
    default:
      return usesParam(value, fn, depth) ? "direct" : "none";
  }
}

function throughOf(fn: FnSummary, at: CallPosition, inner: Through | undefined): Through {
  return inner ? { fn, at, inner } : { fn, at };
}

/** Most requests a function's summary keeps (see {@link templateOf}). */
const MAX_TEMPLATES = 4;

/**
 * Whether a callee is what `fn`'s caller hands in: a parameter, read from one (`options.fetcher`),
 * or one of those with a default (`{ fetcher = defaultFetch() } = options`).
 */
function handedIn(c: Value, fn: FnSummary, depth: number): boolean {
  if (depth > 4) return false;
  if (c.k === "param") return c.fn === fn;
  if (c.k === "member") return handedIn(c.object, fn, depth + 1);
  if (c.k === "either") return c.options.some((o) => handedIn(o, fn, depth + 1));
  return false;
}

/** The template of `fn` when its call of `c` passes one of its parameters into the URL. */
function forwarded(
  c: Value,
  inner: Value[],
  fn: FnSummary,
  ctx: ResolveContext,
  fetchParam = false,
): Template[] {
  let candidates: Template[] = [];
  // A request function of its own, or the one its caller hands it (`fetcher(url, init)`).
  const given = fetchParam && handedIn(c, fn, 0);
  if (isRequestFunction(c) || (given && c.k === "param")) {
    candidates = [{ callee: c, args: inner, inferred: false }];
  } else if (given) {
    // Read from the caller's options, or a default the scan cannot follow (`{ fetcher =
    // pickFetch() } = options`): taken for a fetch, at low confidence.
    candidates = [{ callee: { k: "global", name: "fetch" }, args: inner, inferred: true }];
  } else if (c.k === "fn") {
    const g = c.fn;
    const subs = withSelf(ctx, c.self, () => templateOf(g, ctx));
    if (subs.length) {
      candidates = subs.map((sub) => ({
        callee: resolveValue(substitute(sub.callee, g, inner), ctx),
        args: sub.args.map((a) => substitute(a, g, inner)),
        inferred: sub.inferred,
        ...(sub.through ? { through: sub.through } : {}),
      }));
    }
  }
  const out: Template[] = [];
  for (const t of candidates) {
    // Only what the wrapper's own parameters decide: its callers are the sites.
    if (!t.args[0] || !usesParam(resolveValue(t.args[0], ctx), fn)) continue;
    // A URL the wrapper decides itself (its parameters only fill in a model name): the call in
    // the wrapper is the site, not its callers. One whose parameters give the path after a host
    // it knows (`openaiPOST(access, body, path)`, the host from a table of defaults) stays a
    // wrapper.
    const own = requestOf(t.callee, t.args.map((a) => resolveValue(a, ctx)), ctx, 0);
    if (
      own && classifyUrl(own.urls, own.method, own.via) && !pathFromParams(t, fn, ctx, inner)
    ) {
      continue;
    }
    out.push(t);
  }
  return out;
}

/**
 * Whether the provider URLs a wrapper's request reaches take their path from its parameters, with
 * no AI operation the wrapper spells itself, and the wrapper sends what it is given (no body, or
 * its parameter's): a transport helper, whose callers say which endpoint is called. One that
 * builds the request's body itself (`{ model, messages }`) is where the AI call is made.
 */
function pathFromParams(
  t: Template,
  fn: FnSummary,
  ctx: ResolveContext,
  sent: Value[],
): boolean {
  const args = t.args.map((a) => resolveValue(a, ctx));
  const request = withParamMarks(fn, () => requestOf(t.callee, args, ctx, 0));
  if (!request) return false;
  let fromParams = false;
  for (const u of request.urls) {
    // Only URLs to a provider host count: one of them spelling an AI operation is the wrapper's.
    const facts = classifyText({ text: u.text.replaceAll(PARAM_MARK, "*"), exact: false }, "", "");
    if (!facts || facts.provider === "openai_compatible") continue;
    if (facts.operation !== null) return false;
    // The host ends at the path, a query, a hole or a parameter: the rest is the path.
    const authority = u.text.indexOf("://") + 3;
    let pathStart = authority;
    while (pathStart < u.text.length && !"/?#*".includes(u.text[pathStart]!)) {
      if (u.text[pathStart] === PARAM_MARK) break;
      pathStart++;
    }
    if (u.text.slice(pathStart).includes(PARAM_MARK)) fromParams = true;
  }
  return fromParams && !buildsBody(sent, ctx);
}

/** A call of a function that passes its URL on to a request function: the URL this call builds. */
function wrapperRequest(
  fn: FnSummary,
  args: Value[],
  ctx: ResolveContext,
  depth: number,
): Request | null {
  // The first of the function's requests that reaches a provider, else the first it makes.
  let first: Request | null = null;
  for (const t of templateOf(fn, ctx)) {
    const actual = t.args.map((a) => resolveValue(substitute(a, fn, args), ctx));
    const callee = resolveValue(substitute(t.callee, fn, args), ctx);
    const found = requestOf(callee, actual, ctx, depth + 1);
    if (!found) continue;
    const request: Request = t.through
      ? { ...found, inferred: t.inferred, through: t.through }
      : { ...found, inferred: t.inferred };
    if (classifyUrl(request.urls, request.method, request.via)) return request;
    first ??= request;
  }
  return first;
}

/**
 * A request to a URL the code is configured with (`this.fetch(this.apiBase, …)`, `fetch(url)`
 * with the URL from request settings) whose body, built at the call, is a model request's:
 * `messages` or `prompt` with a model, sampling or streaming option, or Hugging Face's `inputs`
 * with `parameters`. A low-confidence site of an OpenAI-compatible or self-hosted server; a URL
 * with any known text (the app's own `/api/chat`, another host) is none.
 */
function configuredBaseSite(
  c: Value,
  request: Request,
  args: Value[],
  ctx: ResolveContext,
): SiteFacts | null {
  if (!request.urls.length || !request.urls.every((u) => u.text.startsWith("*"))) return null;
  if (request.urls.some((u) => u.text !== "*" && !u.text.startsWith("*/"))) return null;
  // `axios.post(url, body)`: the second argument is the body itself.
  const bodyArg = c.k === "http" && c.lib.config && /^(?:post|put|patch)$/.test(c.method ?? "");
  for (const arg of args.slice(0, 2)) {
    const operation = bodyArg && arg === args[1]
      ? modelBodyOf(arg, ctx)
      : modelRequestOf(resolveValue(arg, ctx), ctx);
    if (operation) {
      return {
        provider: "openai_compatible",
        library: request.via,
        operation,
        confidence: "low",
        target: `${request.via} ${request.method} *`,
        configured: true,
      };
    }
  }
  return null;
}

/** How deep {@link carriesCalls} looks into objects, classes and what functions return. */
const CARRY_DEPTH = 4;

/**
 * Whether a module's export can take an AI call somewhere else: a request function or a function
 * that passes its URL on to one, an SDK client, class or function, an HTTP client, or a class,
 * instance or object holding one. A module none of whose exports can is no reason to read the
 * files importing it (`scan.ts`): whatever they call of it sends nothing to a provider.
 *
 * @example
 * ```ts
 * import { carriesCalls } from "./call_kinds.ts";
 * import { resolveContext } from "./resolve.ts";
 * carriesCalls({ k: "global", name: "fetch" }, resolveContext()); // true
 * carriesCalls({ k: "str", text: "https://example.com" }, resolveContext()); // false
 * ```
 */
export function carriesCalls(value: Value, ctx: ResolveContext): boolean {
  return carries(resolveValue(value, ctx), ctx, 0, new Set());
}

function carries(v: Value, ctx: ResolveContext, depth: number, seen: Set<object>): boolean {
  if (depth > CARRY_DEPTH) return false;
  switch (v.k) {
    case "either":
      return v.options.some((o) => carries(o, ctx, depth + 1, seen));
    case "sdk-module":
    case "sdk-class":
    case "sdk-client":
    case "sdk-function":
    case "sdk-command-class":
    case "sdk-command":
    case "http":
    case "wrapped":
      return true;
    case "global":
      return v.name === "fetch" || v.name === "WebSocket";
    case "fn":
      return withSelf(ctx, v.self, () => fnCarries(v.fn, ctx, depth, seen));
    case "class":
    case "instance":
    case "this": {
      if (seen.has(v.cls)) return false;
      seen.add(v.cls);
      const cls = v.cls;
      return withSelf(ctx, cls, () => {
        for (const method of cls.methods.values()) {
          if (fnCarries(method, ctx, depth, seen)) return true;
        }
        for (const cells of [cls.fields, cls.statics]) {
          for (const cell of cells.values()) {
            if (carries(resolveValue({ k: "cell", cell }, ctx), ctx, depth + 1, seen)) return true;
          }
        }
        return cls.superclass !== null &&
          carries(resolveValue(cls.superclass, ctx), ctx, depth + 1, seen);
      });
    }
    case "obj": {
      for (const p of v.props.values()) {
        if (carries(resolveValue(p, ctx), ctx, depth + 1, seen)) return true;
      }
      return (v.spreads ?? []).some((s) => carries(resolveValue(s, ctx), ctx, depth + 1, seen));
    }
    default:
      return false;
  }
}

function fnCarries(fn: FnSummary, ctx: ResolveContext, depth: number, seen: Set<object>): boolean {
  if (seen.has(fn)) return false;
  seen.add(fn);
  if (templateOf(fn, ctx).length > 0) return true;
  return fn.returns.some((r) => carries(resolveValue(r, ctx), ctx, depth + 1, seen));
}
