/**
 * The node:http2 layer (h2 and h2c): the AWS SDK's default handler sends Bedrock calls over
 * `http2.connect()` sessions. `ClientHttp2Session.prototype.request` is wrapped, so sessions opened
 * before the guard are seen too; `connect` is wrapped to remember each session's origin. A stream to
 * an AI path is decided before it is opened: block mode throws before its HEADERS frame is sent.
 *
 * @module
 */
import type { CallFacts } from "../report/record.ts";
import { builtinModule, syncBuiltinExports } from "../runtime.ts";
import { startedBeforeApp, whenReached } from "./builtin_reach.ts";
import { decideRequest, type DetectorLayer, type GuardCore, runMarked } from "./layer.ts";
import type { Patcher } from "./patcher.ts";
import {
  isOrdinaryOrigin,
  isOrdinaryPath,
  type ProviderMatch,
  sentUrl,
  transportFacts,
} from "./providers.ts";
import { ownConnections } from "./socket.ts";

// deno-lint-ignore no-explicit-any
type Fn = (this: any, ...args: any[]) => any;

interface Http2Module {
  connect: Fn;
}

interface SessionLike {
  encrypted?: boolean;
  socket?: { servername?: unknown; remoteAddress?: unknown; remotePort?: unknown } | null;
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
  destroy?(): void;
}

interface Emitter {
  once(event: string, listener: () => void): unknown;
}

/** `scheme://host:port` of what `connect()` was given (string, URL or URL-like object). */
function originOf(authority: unknown): string | null {
  if (typeof authority === "string") {
    // Node parses the string as a WHATWG URL (`http:host`, `127.1`, …): so does the registry.
    const url = sentUrl(authority);
    if (url === null) return null;
    const scheme = url.indexOf("://");
    if (scheme === -1) return null;
    const end = url.indexOf("/", scheme + 3);
    return end === -1 ? url : url.slice(0, end);
  }
  const a = authority as { protocol?: unknown; host?: unknown; hostname?: unknown; port?: unknown };
  if (a === null || typeof a !== "object") return null;
  const protocol = typeof a.protocol === "string" ? a.protocol : "https:";
  const host = typeof a.host === "string" && a.host
    ? a.host
    : typeof a.hostname === "string"
    ? `${a.hostname}${a.port ? `:${a.port}` : ""}`
    : null;
  return host === null ? null : `${protocol}//${host}`;
}

/** The origin of a session not opened through the wrapped `connect` (a named import on Deno). */
function socketOrigin(session: SessionLike, authority: string | undefined): string | null {
  const scheme = session.encrypted ? "https" : "http";
  if (authority !== undefined) return `${scheme}://${authority}`;
  try {
    const socket = session.socket;
    const host = socket?.servername || socket?.remoteAddress;
    if (typeof host !== "string" || host === "") return null;
    const name = host.includes(":") ? `[${host}]` : host;
    return `${scheme}://${name}${socket?.remotePort ? `:${socket.remotePort}` : ""}`;
  } catch {
    return null;
  }
}

function header(headers: unknown, name: string): string | undefined {
  if (Array.isArray(headers)) {
    // Raw pairs, `[name, value, …]`: the runtime lowercases the names.
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const value = headers[i + 1];
      if (typeof value === "string" && String(headers[i]).toLowerCase() === name) return value;
    }
    return undefined;
  }
  const value = (headers as Record<string, unknown> | null | undefined)?.[name];
  return typeof value === "string" ? value : undefined;
}

/** A pseudo-header's value as the runtime sends it: a one-value array's value, stringified. */
function pseudoValue(value: unknown): unknown {
  if (Array.isArray(value) && value.length === 1) value = value[0];
  return value === null || (typeof value !== "object" && typeof value !== "function")
    ? value
    : String(value);
}

/**
 * Settles a stream's headers (the first argument) so that the guard judges what the runtime reads:
 * an object is copied as the runtime copies it (a getter runs once: it cannot answer a harmless
 * `:path` to the guard and the endpoint to the runtime), raw pairs are copied; in both, a
 * pseudo-header that is an object or a one-value array (`{ toString }`, `[path]`, which the
 * runtime stringifies) is stringified once.
 */
function settleHeaders(args: unknown[]): void {
  const headers = args[0];
  if (headers === null || typeof headers !== "object") return;
  if (Array.isArray(headers)) {
    const copy = headers.slice();
    for (let i = 0; i + 1 < copy.length; i += 2) {
      if (String(copy[i]).startsWith(":")) copy[i + 1] = pseudoValue(copy[i + 1]);
    }
    args[0] = copy;
    return;
  }
  const proto = Object.getPrototypeOf(headers);
  const copy: Record<string, unknown> = proto === Object.prototype
    ? { ...headers }
    : Object.assign(Object.create(proto), headers);
  // The pseudo-headers the guard reads.
  const path = copy[":path"];
  if (path !== undefined && typeof path !== "string") copy[":path"] = pseudoValue(path);
  const authority = copy[":authority"];
  if (authority !== undefined && typeof authority !== "string") {
    copy[":authority"] = pseudoValue(authority);
  }
  args[0] = copy;
}

function describe(match: ProviderMatch, method: string): CallFacts {
  return transportFacts(match, "http2", `http2 ${method.toUpperCase()}`);
}

/**
 * A session's prototype, from a session over a stream that goes nowhere: nothing touches the
 * network, and it lets sessions opened before the guard be patched too.
 */
function probeSessionPrototype(h2: Http2Module): object | null {
  const stream = builtinModule<{ Duplex?: new (o: object) => object }>("node:stream");
  if (!stream?.Duplex) return null;
  const Duplex = stream.Duplex;
  try {
    const session = h2.connect("http://aiguard.invalid", {
      createConnection: () =>
        new Duplex({
          read() {},
          write(_chunk: unknown, _encoding: unknown, done: () => void) {
            done();
          },
        }),
    }) as SessionLike;
    session.on?.("error", () => {});
    const proto = Object.getPrototypeOf(session) as object | null;
    session.destroy?.();
    return proto;
  } catch {
    return null;
  }
}

/** Where a session's streams go, and whether that origin is proven to be no provider's. */
interface SessionOrigin {
  origin: string;
  ordinary: boolean;
}

function sessionOrigin(origin: string): SessionOrigin {
  return { origin, ordinary: isOrdinaryOrigin(origin) };
}

/**
 * The origin of a stream: the session's (known from `connect`, else read from its connected
 * socket once), or the stream's own `:authority`.
 */
function streamOrigin(
  origins: WeakMap<object, SessionOrigin>,
  session: SessionLike,
  authority: string | undefined,
): SessionOrigin | null {
  const known = origins.get(session);
  if (known !== undefined) return known;
  const origin = socketOrigin(session, authority);
  if (origin === null) return null;
  const found = sessionOrigin(origin);
  // A socket's peer does not change once it is known; an `:authority` is the stream's own.
  if (authority === undefined) origins.set(session, found);
  return found;
}

function wrapRequest(
  core: GuardCore,
  patcher: Patcher,
  proto: object,
  origins: WeakMap<object, SessionOrigin>,
): void {
  patcher.wrapMethod<Fn>(proto, "request", (original) => {
    const guarded = function (this: SessionLike, ...args: unknown[]) {
      if (!core.active()) return Reflect.apply(original, this, args);
      settleHeaders(args);
      const headers = args[0];
      const path = header(headers, ":path") ?? "/";
      const found = streamOrigin(origins, this, header(headers, ":authority"));
      const match = found === null ||
          (found.ordinary && core.rules().length === 0 && isOrdinaryPath(path))
        ? null
        : core.match(found.origin + path);
      if (match === null) return Reflect.apply(original, this, args);
      const frame = core.frame();
      const method = header(headers, ":method") ?? "GET";
      const marker = decideRequest(core, frame, () => describe(match, method), guarded) ??
        frame!.call!;
      const stream = runMarked(core, frame, marker, () => Reflect.apply(original, this, args));
      if (marker.settle && typeof (stream as Emitter | null)?.once === "function") {
        (stream as Emitter).once("response", () => core.settle(marker));
        (stream as Emitter).once("close", () => core.settle(marker));
      }
      return stream;
    };
    return guarded;
  });
}

/**
 * Wraps `http2.connect` and the client session's `request` where the runtime has node:http2, once
 * the app reaches it (see `builtin_reach.ts`).
 */
export const http2Layer: DetectorLayer = {
  name: "http2",
  install(core, patcher) {
    let patched = false;
    // Under the preload every session is opened through the patched connect: no probe (~4 ms, and
    // node:stream), which only catches sessions opened before the guard.
    const probe = !startedBeforeApp();
    const cancel = whenReached("node:http2", (mod) => {
      const h2 = mod as unknown as Http2Module;
      if (typeof h2.connect !== "function") return;
      const origins = new WeakMap<object, SessionOrigin>();
      const probed = probe ? probeSessionPrototype(h2) : null;
      if (probed) wrapRequest(core, patcher, probed, origins);
      patched = patcher.wrapMethod<Fn>(
        h2,
        "connect",
        (original) =>
          function (this: unknown, authority: unknown, ...rest: unknown[]) {
            // Each stream on the session is judged by its path; the connection itself is no call.
            const session = ownConnections(() => original.call(this, authority, ...rest));
            const origin = originOf(authority);
            if (origin !== null && session !== null && typeof session === "object") {
              origins.set(session, sessionOrigin(origin.toLowerCase()));
              const proto = Object.getPrototypeOf(session) as object | null;
              if (proto && proto !== probed) wrapRequest(core, patcher, proto, origins);
            }
            return session;
          },
      ) || patched;
      syncBuiltinExports();
    });
    return () => {
      cancel();
      if (patched) syncBuiltinExports();
    };
  },
};
