/**
 * The request a call makes: the URL and method it gives a request function (the global `fetch`
 * or `WebSocket`, an HTTP client), or that it gives a function passing its URL on to one. Such a
 * wrapper is summarised once, as templates of its requests with its parameters left in; a call
 * then puts its arguments in.
 *
 * @module
 */
import { ipcTargets } from "./electron.ts";
import { GLOBAL_FETCH, GLOBAL_WEBSOCKET } from "./http_libraries.ts";
import { buildsBody } from "./request_bodies.ts";
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
import type { Through } from "./site_facts.ts";
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

/** A call's request: the request function it goes through, its URLs and method. */
export interface Request {
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
export function requestOf(
  c: Value,
  args: Value[],
  ctx: ResolveContext,
  depth: number,
): Request | null {
  if (depth > 6) return null;
  if (c.k === "either") {
    // `(options.fetch ?? globalThis.fetch)(url)`: the request function among the options.
    for (const option of c.options) {
      const found = requestOf(option, args, ctx, depth + 1);
      if (found) return found;
    }
    return null;
  }
  // `ipcRenderer.invoke(channel, …)`: the request its handler in the main process makes.
  const ipc = ipcTargets(c, args, ctx);
  if (ipc) {
    for (const target of ipc) {
      const found = requestOf(target.callee, target.args, ctx, depth + 1);
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
    if (lib.scheme !== undefined && first) {
      // https.request({ hostname, path, method }): the URL in parts.
      const host = first.props.get("hostname") ?? first.props.get("host");
      url = host && {
        k: "concat",
        parts: [{ k: "str", text: `${lib.scheme}://` }, host, first.props.get("path") ?? UNKNOWN],
      };
      verb ??= methodOf(first, ctx);
    } else if (lib.config && first) {
      // axios({ url, method, baseURL })
      url = first.props.get("url");
      for (const key of lib.baseKeys) base = first.props.get(key) ?? base;
      verb ??= methodOf(first, ctx);
    } else {
      const options = args[1];
      verb ??= methodOf(options, ctx);
      const o = optionOf(options ? resolveValue(options, ctx) : UNKNOWN, "obj");
      if (o) { for (const key of lib.baseKeys) base = o.props.get(key) ?? base; }
      // sse.js: a `payload` without a `method` is a POST.
      if (o && lib.bodyKeys?.some((key) => o.props.has(key))) verb ??= "POST";
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
export function templateOf(fn: FnSummary, ctx: ResolveContext): Template[] {
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
        const callees = callee.k === "either" ? callee.options : [callee];
        // `ipcRenderer.invoke(channel, …)`: a call of the channel's handlers.
        // A sender is a transport, never where the request is made.
        const targets = callees.flatMap((c) =>
          ipcTargets(c, inner, ctx)?.map((t) => ({ ...t, ipc: true })) ??
            [{ callee: c, args: inner, ipc: false }]
        );
        for (const { callee: c, args: sent, ipc } of targets) {
          for (const found of forwarded(c, sent, fn, ctx, forward.fetchParam === true)) {
            if (out.length >= MAX_TEMPLATES) break;
            // A function that hands a whole URL parameter on (`get(url, init)`) is a request
            // function of its own, whatever its callers: only one that builds the URL from what
            // it is given (`route.endpoint`, `${base}${path}`) may be where its one caller's
            // request is. A function handed on as it is (a dispatch creator) is no URL: the
            // request is made where the URL it makes is sent.
            const { through, ...rest } = found;
            const url = rest.args[0] ? resolveValue(rest.args[0], ctx) : UNKNOWN;
            const factory = paramUse(url, fn, 0) === "called";
            if (!forward.at || ipc || (isBareParam(forward.args[0]) && !factory)) out.push(rest);
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
export function pathFromParams(
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
