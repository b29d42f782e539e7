/**
 * The node:http / node:https layer: wraps `request` and `get` on the module objects, which axios,
 * got, node-fetch 2, `ws` and SDK HTTP handlers look up per request, on Node, Deno and Bun. An AI
 * request is decided before the original runs, so block mode throws before any byte is sent. On
 * Node, ESM named imports (`import { request } from "node:http"`) are re-synced to the wrapper, and
 * `http.client.request.created` catches a `ClientRequest` built directly (it can block only by
 * destroying the request before it is sent).
 *
 * @module
 */
import type { CallMarker } from "../context.ts";
import type { CallFacts } from "../report/record.ts";
import { builtinModule, runtimeKey, syncBuiltinExports } from "../runtime.ts";
import { whenReached } from "./builtin_reach.ts";
import { decideRequest, type DetectorLayer, type GuardCore, runMarked } from "./layer.ts";
import type { Patcher } from "./patcher.ts";
import type { StackBoundary } from "./call_site.ts";
import {
  isOrdinaryPath,
  isOrdinaryRequest,
  type ProviderMatch,
  sentUrl,
  splitUrl,
  transportFacts,
} from "./providers.ts";
import { ownCall } from "./socket.ts";
import { describeWebSocket } from "./websocket.ts";

// deno-lint-ignore no-explicit-any
type Fn = (this: unknown, ...args: any[]) => any;
type Options = Record<string, unknown>;

interface Emitter {
  once(event: string, listener: (...args: unknown[]) => void): unknown;
}

interface ClientRequestLike extends Emitter {
  method?: string;
  path?: string;
  protocol?: string;
  host?: string;
  getHeader?(name: string): unknown;
  destroy?(error?: Error): unknown;
}

interface DiagnosticsChannel {
  subscribe(name: string, fn: (message: unknown) => void): void;
  unsubscribe(name: string, fn: (message: unknown) => void): void;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

/** `[::1]` for an IPv6 literal, so the URL scanner finds the port. */
function bracketed(hostname: string): string {
  return hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
}

/** What `request()`/`get()` options name: the pieces Node joins into the URL it sends to. */
export interface RequestParts {
  protocol: string;
  /** An IPv6 address without brackets. */
  hostname: string;
  /** As given (`8080`, `"8080"`), or `""` for the protocol's default. */
  port: string | number;
  path: string;
  method: unknown;
}

/**
 * What a `request()`/`get()` call goes to, from its `(url[, options][, cb])` or `(options[, cb])`
 * arguments: the URL string when only a URL is given, else the parts of its options laid over it
 * (see {@link requestUrl}); `null` when it names none.
 */
export function requestTarget(
  args: ArrayLike<unknown>,
  defaultProtocol: string,
): string | RequestParts | null {
  const first = args[0];
  let url: string | null = null;
  let opts: Options | null = null;
  let parts: RequestParts | null = null;
  if (typeof first === "string") url = first;
  else if (first instanceof URL) url = first.href;
  else if (first !== null && typeof first === "object") {
    parts = urlLikeParts(first as Options);
    if (parts === null) opts = first as Options;
  }
  if (parts !== null) {
    const second = args[1];
    if (second === null || typeof second !== "object") return parts;
    opts = second as Options;
  } else if (url !== null) {
    const second = args[1];
    if (second !== null && typeof second === "object" && typeof second !== "function") {
      opts = second as Options;
    }
    if (
      opts === null || (opts.hostname === undefined && opts.host === undefined &&
        opts.path === undefined && opts.port === undefined && opts.protocol === undefined)
    ) return url;
  }
  if (opts === null) return null;
  let protocol = defaultProtocol;
  let hostname = "localhost";
  let port: string | number = "";
  let path = "/";
  // The string is parsed (WHATWG) before the options are laid over it, as Node does.
  if (url !== null) url = sentUrl(url);
  const split = url === null ? null : splitUrl(url);
  if (url !== null && split !== null) {
    protocol = url.slice(0, url.indexOf(":") + 1);
    hostname = split.hostname;
    port = split.port ?? "";
    path = split.path;
  } else if (parts !== null) ({ protocol, hostname, port, path } = parts);
  const agent = opts.agent as { protocol?: unknown } | null | undefined;
  protocol = text(opts.protocol) ?? text(agent?.protocol) ?? protocol;
  const named = text(opts.hostname);
  const host = text(opts.host);
  if (named !== undefined) hostname = named;
  else if (host !== undefined) {
    // The legacy `host` option may carry a port: `example.com:8080`.
    const colon = host.indexOf(":");
    if (colon > 0 && colon === host.lastIndexOf(":")) {
      hostname = host.slice(0, colon);
      port = host.slice(colon + 1);
    } else hostname = host;
  }
  const given = opts.port;
  if (typeof given === "string" || typeof given === "number") port = given;
  path = text(opts.path) ?? path;
  return { protocol, hostname, port, path, method: opts.method };
}

/**
 * The parts Node reads from an object it takes for a URL though it is none (a URL class of another
 * realm or a polyfill): Node's `isURL` test (`href` and `protocol` set, `auth` and `path` not) and
 * its `urlToHttpOptions` reading (`hostname`, `port`, `pathname` + `search`; `href` is not read).
 * `null` for any other object, and on Deno and Bun, which read every non-`URL` object as options.
 */
function urlLikeParts(value: Options): RequestParts | null {
  if (
    !value.href || !value.protocol || value.auth !== undefined || value.path !== undefined ||
    runtimeKey() !== "node"
  ) return null;
  const named = text(value.hostname) || text(value.host) || "localhost";
  const port = text(value.port) ?? "";
  return {
    protocol: String(value.protocol),
    hostname: named.startsWith("[") ? named.slice(1, -1) : named,
    port: port === "" ? "" : Number(port),
    path: `${value.pathname || ""}${value.search || ""}`,
    method: value.method,
  };
}

/** The absolute URL options name (a proxy's absolute-form path, a tunnel's target, or the join). */
function joinedUrl(parts: RequestParts): string {
  const { protocol, hostname, port, path } = parts;
  return proxiedUrl(path) ?? tunnelUrl(parts.method, path) ??
    `${protocol}//${bracketed(hostname)}${port === "" ? "" : `:${port}`}${path}`;
}

/**
 * The absolute URL a `request()`/`get()` call goes to (see {@link requestTarget}): the URL string,
 * or the one its options make; the registry parses it as the runtime does only when it holds
 * anything unusual (`127.1`, a trailing dot, a tab, …).
 *
 * @example
 * ```ts
 * import { requestUrl } from "./http.ts";
 * requestUrl([{ host: "example.com:8080", path: "/a" }], "http:"); // "http://example.com:8080/a"
 * ```
 */
export function requestUrl(args: ArrayLike<unknown>, defaultProtocol: string): string | null {
  const target = requestTarget(args, defaultProtocol);
  return target === null || typeof target === "string" ? target : joinedUrl(target);
}

/**
 * The registry's match for a `request()`/`get()` call, `null` for ordinary traffic, and the URL
 * judged. Options that name an ordinary host and path are judged as parts, without the joined URL.
 */
function matchRequest(
  core: GuardCore,
  args: ArrayLike<unknown>,
  defaultProtocol: string,
): { match: ProviderMatch; url: string } | null {
  const target = requestTarget(args, defaultProtocol);
  if (target === null) return null;
  if (
    typeof target !== "string" && core.rules().length === 0 &&
    isOrdinaryRequest(target.protocol, target.hostname, target.port, target.path)
  ) {
    ordinaryPath = target.path;
    return null;
  }
  const url = typeof target === "string" ? target : joinedUrl(target);
  const match = core.match(url);
  return match === null ? null : { match, url };
}

/**
 * A `CONNECT host:port` to a forward proxy opens a tunnel to that host: judged as a connection to
 * `https://host:port/` (what goes through it is not seen).
 */
function tunnelUrl(method: unknown, path: string): string | null {
  return typeof method === "string" && method.toUpperCase() === "CONNECT" &&
      /^[^/\s]+:\d+$/.test(path)
    ? `https://${path}/`
    : null;
}

/**
 * The URL a request path in absolute form (`http://api.openai.com/v1/…`) names: sent so, the
 * host it connects to is a forward proxy that sends the request on to that URL.
 */
function proxiedUrl(path: string): string | null {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(path) ? path : null;
}

/** Whether request headers ask for a WebSocket upgrade (plain objects or raw pairs). */
export function isWebSocketUpgrade(headers: unknown): boolean {
  if (headers === null || typeof headers !== "object") return false;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (
        String(headers[i]).toLowerCase() === "upgrade" &&
        String(headers[i + 1]).toLowerCase() === "websocket"
      ) return true;
    }
    return false;
  }
  for (const key of Object.keys(headers)) {
    if (key.length === 7 && key.toLowerCase() === "upgrade") {
      return String((headers as Options)[key]).toLowerCase() === "websocket";
    }
  }
  return false;
}

/**
 * Settles the options object among a call's own arguments (the wrapper's rest array): what the
 * guard judges is what the runtime reads. Node, Deno and Bun begin a request by copying the
 * options' own enumerable properties (`Object.assign`), once; a plain object (every ordinary call)
 * is copied here the same way (cheaper than looking for getters: bench/NOTES.md) and the copy
 * passed on, so a getter runs once, as without the guard,
 * and cannot answer a harmless path to the guard and the endpoint to the runtime. Any other object
 * keeps its prototype (a URL-like object is read through it) and is copied only when it has getters
 * of its own.
 */
function settleOptions(args: unknown[]): void {
  for (let i = 0; i < 2 && i < args.length; i++) {
    const a = args[i];
    if (a === null || typeof a !== "object" || a instanceof URL) continue;
    const proto = Object.getPrototypeOf(a);
    let settled: Options;
    if (proto === Object.prototype) settled = { ...a };
    else if (proto === null) settled = { __proto__: null, ...a };
    else if (hasOwnGetter(a) || isObject((a as Options).path)) {
      settled = Object.assign(Object.create(proto), a);
    } else return;
    // A path that is an object (`new String(…)`, one with a `toString`) is stringified by the
    // runtime, on Node as it writes the request line: stringified here once, so the runtime sends
    // the text the guard judged.
    if (isObject(settled.path)) settled.path = String(settled.path);
    args[i] = settled;
    return;
  }
}

function isObject(value: unknown): value is object {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

function hasOwnGetter(value: object): boolean {
  for (const key of Reflect.ownKeys(value)) {
    if (Reflect.getOwnPropertyDescriptor(value, key)?.get !== undefined) return true;
  }
  return false;
}

function optionsOf(args: readonly unknown[]): Options | null {
  for (let i = 0; i < 2; i++) {
    const a = args[i];
    if (a !== null && typeof a === "object" && !(a instanceof URL)) return a as Options;
  }
  return null;
}

function describe(
  match: ProviderMatch,
  url: string,
  method: string,
  upgrade: boolean,
  module: string,
): CallFacts {
  if (upgrade) return describeWebSocket(match, url);
  return transportFacts(match, "http", `${module} ${method.toUpperCase()}`);
}

/** Ends the span when the response (or the end of the request) arrives; adds no error listener. */
function settleOn(core: GuardCore, request: unknown, marker: CallMarker): void {
  if (!marker.settle || request === null || typeof request !== "object") return;
  const emitter = request as Emitter;
  if (typeof emitter.once !== "function") return;
  emitter.once("response", () => core.settle(marker));
  emitter.once("close", () => core.settle(marker));
}

/**
 * Requests the module wrappers are making now (synchronously): Node's `created` channel fires
 * inside them, and the wrapper has already classified the request.
 */
let wrapping = 0;

function hook(core: GuardCore, original: Fn, module: "http" | "https", protocol: string): Fn {
  const guarded = function (this: unknown, ...args: unknown[]) {
    if (!core.active()) return Reflect.apply(original, this, args);
    settleOptions(args);
    const found = matchRequest(core, args, protocol);
    if (found === null) {
      wrapping++;
      try {
        return ownCall(original, this, args);
      } finally {
        wrapping--;
      }
    }
    const { match, url } = found;
    const frame = core.frame();
    const opts = optionsOf(args);
    const marker = decideRequest(
      core,
      frame,
      () =>
        describe(
          match,
          url,
          text(opts?.method) ?? "GET",
          isWebSocketUpgrade(opts?.headers),
          module,
        ),
      guarded,
    ) ?? frame!.call!;
    const request = runMarked(
      core,
      frame,
      marker,
      () => ownCall(original, this, args),
    );
    settleOn(core, request, marker);
    rememberPath(request);
    return request;
  };
  Object.defineProperty(guarded, "name", { value: original.name, configurable: true });
  Object.defineProperty(guarded, "length", { value: original.length, configurable: true });
  return guarded;
}

/**
 * The path of the last request proven ordinary by its parts: an ordinary path on any host, which
 * the request line's check need not read again (the same request, written at once).
 */
let ordinaryPath = "";

/** The path each AI request was decided for (`request()` and the `created` channel). */
const decidedPaths = new WeakMap<object, string>();

function rememberPath(request: unknown): void {
  const path = request !== null && typeof request === "object"
    ? (request as ClientRequestLike).path
    : undefined;
  if (typeof path === "string") decidedPaths.set(request as object, path);
}

/**
 * Judges the path a request will be sent with when it is no longer the one it was judged with:
 * the runtimes read `request.path` when they write the request line, not when `request()` returns,
 * so `req.path = "/v1/chat/completions"` set after the guard judged `/harmless` would send the
 * endpoint unseen. An ordinary path stays ordinary on the host it was judged on (a provider host's
 * every path is its: that request was decided as it was made). Block mode: throws
 * `AttestationError` before the line is written.
 */
function judgeSentPath(
  core: GuardCore,
  request: ClientRequestLike,
  path: string,
  below: StackBoundary,
): void {
  if (core.rules().length === 0 && isOrdinaryPath(path)) return;
  if (decidedPaths.get(request) === path) return;
  const host = text(request.getHeader?.("host")) ?? text(request.host);
  if (host === undefined) return;
  const url = proxiedUrl(path) ?? tunnelUrl(request.method, path) ??
    `${request.protocol ?? "http:"}//${host}${path}`;
  const match = core.match(url);
  if (match === null) return;
  const upgrade = String(request.getHeader?.("upgrade")).toLowerCase() === "websocket";
  const module = request.protocol === "https:" ? "https" : "http";
  const marker = decideRequest(
    core,
    core.frame(),
    () => describe(match, url, request.method ?? "GET", upgrade, module),
    below,
  );
  decidedPaths.set(request, path);
  if (marker) settleOn(core, request, marker);
}

/**
 * Watches `ClientRequest`'s path after the request is made, once per process prototype: Deno and
 * Bun keep it behind an accessor on the prototype (its setter is wrapped: a new path is judged as
 * it is set, and a blocked one is not set); Node keeps it as a plain property of each request and
 * reads it in `_implicitHeader()`, which writes the request line (wrapped: the path is judged there,
 * once per request, and an AI one blocked before anything is written).
 */
function watchPaths(core: GuardCore, patcher: Patcher): void {
  const ClientRequest = builtinModule<{ ClientRequest?: { prototype?: object } }>("node:http")
    ?.ClientRequest;
  const proto = ClientRequest?.prototype;
  if (proto === undefined || proto === null) return;
  const accessor = Object.getOwnPropertyDescriptor(proto, "path");
  if (accessor?.get !== undefined && accessor.set !== undefined) {
    const { get, set } = accessor;
    patcher.define(proto, "path", {
      get,
      set: function setPath(this: unknown, value: unknown) {
        // The runtime's setter stringifies it: once, here, so that what is judged is what is kept.
        if (isObject(value)) value = String(value);
        // The constructor's own assignment finds no path yet: the request is judged as made. Once
        // `end()` ran (or the headers went), the line is written: a new path is not sent.
        if (core.active() && typeof value === "string") {
          const current = get.call(this);
          const sent = this as { headersSent?: unknown; writableEnded?: unknown };
          if (
            typeof current === "string" && current !== value && sent.headersSent !== true &&
            sent.writableEnded !== true
          ) judgeSentPath(core, this as ClientRequestLike, value, setPath);
        }
        set.call(this, value);
      },
      enumerable: accessor.enumerable ?? false,
    });
    return;
  }
  patcher.wrapMethod<Fn>(
    proto,
    "_implicitHeader",
    (original) =>
      function implicitHeader(this: unknown, ...args: unknown[]) {
        const request = this as ClientRequestLike;
        let path: unknown = request.path;
        // Node stringifies a path object as it writes the line: once, here, and kept.
        if (isObject(path)) request.path = path = String(path);
        if (
          typeof path === "string" && (path !== ordinaryPath || core.rules().length !== 0) &&
          core.active()
        ) judgeSentPath(core, request, path, implicitHeader);
        return Reflect.apply(original, this, args);
      },
  );
}

/** Node: a ClientRequest built without `request()`/`get()` is seen when it is created. */
function subscribeCreated(core: GuardCore): (() => void) | undefined {
  const dc = builtinModule<DiagnosticsChannel>("node:diagnostics_channel");
  if (!dc) return undefined;
  const onCreated = (message: unknown) => {
    try {
      if (wrapping > 0 || !core.active()) return;
      const request = (message as { request?: ClientRequestLike }).request;
      if (!request || typeof request.getHeader !== "function") return;
      const frame = core.frame();
      if (frame?.call?.recorded) return; // the module wrapper or an SDK decided it
      const host = text(request.getHeader("host")) ?? text(request.host);
      if (host === undefined || typeof request.path !== "string") return;
      const url = proxiedUrl(request.path) ?? tunnelUrl(request.method, request.path) ??
        `${request.protocol ?? "http:"}//${host}${request.path}`;
      const match = core.match(url);
      if (!match) return;
      const method = request.method ?? "GET";
      const upgrade = String(request.getHeader("upgrade")).toLowerCase() === "websocket";
      const module = request.protocol === "https:" ? "https" : "http";
      try {
        const marker = decideRequest(
          core,
          frame,
          () => describe(match, url, method, upgrade, module),
          onCreated,
        );
        if (marker) settleOn(core, request, marker);
        rememberPath(request);
      } catch (error) {
        // Block mode: never throw in a channel subscriber (it would crash the process); the
        // request is destroyed before it is sent and its 'error' event carries the error.
        request.destroy?.(error as Error);
      }
    } catch {
      // A broken request object must not reach the host app.
    }
  };
  try {
    dc.subscribe("http.client.request.created", onCreated);
  } catch {
    return undefined; // a runtime without the channel
  }
  return () => dc.unsubscribe("http.client.request.created", onCreated);
}

/**
 * Wraps `request` and `get` of node:http and node:https where the runtime has them, each once the
 * app reaches it (see `builtin_reach.ts`).
 */
export const httpLayer: DetectorLayer = {
  name: "http",
  install(core, patcher) {
    let unsubscribe: (() => void) | undefined;
    const cancels = ([
      ["node:http", "http", "http:"],
      ["node:https", "https", "https:"],
    ] as const).map(([name, module, protocol]) =>
      whenReached(name, (mod) => {
        let patched = false;
        for (const key of ["request", "get"]) {
          if (typeof mod[key] !== "function") continue;
          patched = patcher.wrapMethod<Fn>(
            mod,
            key,
            (original) => hook(core, original, module, protocol),
          ) || patched;
        }
        if (!patched) return;
        watchPaths(core, patcher);
        syncBuiltinExports();
        unsubscribe ??= subscribeCreated(core);
      })
    );
    return () => {
      for (const cancel of cancels) cancel();
      if (unsubscribe === undefined) return;
      unsubscribe();
      syncBuiltinExports();
    };
  },
};
