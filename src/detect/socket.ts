/**
 * The socket layer: a TCP or TLS connection to a provider host (or a host a `providers` rule names)
 * is an AI call even though the guard cannot read what is sent over it. Seen where the app opens
 * one itself: `net.connect`/`net.createConnection`/`tls.connect` (Node, Deno, Bun, looked up on the
 * module object, as `https` and undici do per connection), `Deno.connect`/`Deno.connectTls`, and
 * `Bun.connect`. A connection a transport opens for its requests (node:http(s), node:http2, undici)
 * stays quiet: those layers judge each request on it, so one call is one record. Block mode throws
 * from the synchronous functions and rejects the promise of the others, before anything connects.
 *
 * @module
 */
import type { CallFacts } from "../report/record.ts";
import { builtinModule, syncBuiltinExports } from "../runtime.ts";
import { whenReached } from "./builtin_reach.ts";
import { decideRequest, type DetectorLayer, type GuardCore, runMarked } from "./layer.ts";
import type { Patcher } from "./patcher.ts";
import { type ProviderMatch, transportFacts } from "./providers.ts";

// deno-lint-ignore no-explicit-any
type Fn = (this: unknown, ...args: any[]) => any;
type Options = Record<string, unknown>;

/** How many transports are opening connections for their own requests now (synchronously). */
let owned = 0;

/**
 * Runs `open` (a transport's own request or connect) so that the connections it opens are not
 * judged again here: the transport's layer judges every request made on them.
 *
 * @example In a transport layer
 * ```ts
 * import { ownConnections } from "./socket.ts";
 * const request = ownConnections(() => ({ sent: true }));
 * ```
 */
export function ownConnections<R>(open: () => R): R {
  owned++;
  try {
    return open();
  } finally {
    owned--;
  }
}

/**
 * `fn.apply(self, args)` as {@link ownConnections} runs it: a transport's own call, without a
 * closure for each request.
 *
 * @example In a transport layer
 * ```ts
 * import { ownCall } from "./socket.ts";
 * const request = ownCall((url: string) => ({ url }), undefined, ["http://example.com/"]);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function ownCall<R>(fn: (...args: any[]) => R, self: unknown, args: ArrayLike<unknown>): R {
  owned++;
  try {
    return Reflect.apply(fn, self, args);
  } finally {
    owned--;
  }
}

interface DiagnosticsChannel {
  subscribe(name: string, fn: (message: unknown) => void): void;
  unsubscribe(name: string, fn: (message: unknown) => void): void;
}

/**
 * undici announces a connection right before its connector opens it, in the same synchronous run
 * (`undici:client:beforeConnect`): the connection is undici's, whose layer judged the request.
 */
function subscribeUndiciConnects(): (() => void) | undefined {
  const dc = builtinModule<DiagnosticsChannel>("node:diagnostics_channel");
  if (!dc) return undefined;
  const onBeforeConnect = () => {
    owned++;
    queueMicrotask(() => owned--);
  };
  try {
    dc.subscribe("undici:client:beforeConnect", onBeforeConnect);
  } catch {
    return undefined;
  }
  return () => dc.unsubscribe("undici:client:beforeConnect", onBeforeConnect);
}

/** Where a connection goes: the host a TLS client names (SNI) or connects to, and the port. */
interface Endpoint {
  host: string;
  port: number;
  tls: boolean;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function portOf(value: unknown): number | null {
  const port = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
}

/**
 * The endpoint of `net.connect`/`tls.connect` arguments: `(options[, cb])` or
 * `(port[, host][, options][, cb])`; `null` for a Unix socket path or anything unreadable.
 */
function nodeEndpoint(args: readonly unknown[], tls: boolean): Endpoint | null {
  let options: Options = {};
  let port: number | null = null;
  let host: string | undefined;
  const first = args[0];
  if (first !== null && typeof first === "object") options = first as Options;
  else if (typeof first === "number" || (typeof first === "string" && portOf(first) !== null)) {
    port = portOf(first);
    host = text(args[1]);
    for (const a of args.slice(1, 3)) {
      if (a !== null && typeof a === "object") options = a as Options;
    }
  } else return null; // a path: IPC
  if (text(options.path) !== undefined) return null;
  port ??= portOf(options.port);
  if (port === null) return null;
  host = (tls ? text(options.servername) : undefined) ?? text(options.host) ?? host ?? "localhost";
  return { host, port, tls };
}

function bracketed(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function describe(match: ProviderMatch, what: string, endpoint: Endpoint): CallFacts {
  // A socket has no path: the target names the port instead, the one connected to.
  return {
    ...transportFacts(match, "socket", what, null),
    target: `${what} ${match.server}:${endpoint.port}`,
    port: endpoint.port,
  };
}

/**
 * Decides a connection about to be opened by `open`, returning what `open` returns; block mode
 * throws (or, for `async`, rejects) first. Ordinary connections cost one registry lookup.
 */
function guarded<R>(
  core: GuardCore,
  what: string,
  endpoint: Endpoint | null,
  open: () => R,
  below: Fn,
  async: boolean,
): R {
  if (endpoint === null || owned > 0) return open();
  const scheme = endpoint.tls ? "https" : "http";
  // The root path: only a provider host or a `providers` host rule can match it.
  const match = core.match(`${scheme}://${bracketed(endpoint.host)}:${endpoint.port}/`);
  if (match === null) return open();
  const frame = core.frame();
  let marker;
  try {
    marker = decideRequest(core, frame, () => describe(match, what, endpoint), below);
  } catch (error) {
    if (async) return Promise.reject(error) as R;
    throw error;
  }
  if (marker === null) return open();
  core.settle(marker); // nothing on a raw connection says when the call ends
  return runMarked(core, frame, marker, open);
}

function wrapNodeModule(
  core: GuardCore,
  patcher: Patcher,
  mod: Record<string, unknown>,
  tls: boolean,
  keys: readonly string[],
): boolean {
  let patched = false;
  for (const key of keys) {
    if (typeof mod[key] !== "function") continue;
    const what = `${tls ? "tls" : "net"}.${key}`;
    patched = patcher.wrapMethod<Fn>(mod, key, (original) => {
      const hooked = function (this: unknown, ...args: unknown[]) {
        if (!core.active()) return original.apply(this, args);
        return guarded(
          core,
          what,
          nodeEndpoint(args, tls),
          () => original.apply(this, args),
          hooked,
          false,
        );
      };
      Object.defineProperty(hooked, "name", { value: original.name, configurable: true });
      Object.defineProperty(hooked, "length", { value: original.length, configurable: true });
      return hooked;
    }) || patched;
  }
  return patched;
}

/**
 * `Deno.connect`/`Deno.connectTls` and `Bun.connect`: `{ hostname, port }` options, a promise.
 */
function wrapRuntimeConnect(
  core: GuardCore,
  patcher: Patcher,
  owner: object,
  key: string,
  what: string,
  isTls: (options: Options) => boolean,
): void {
  const make = (original: Fn): Fn => {
    const hooked = function (this: unknown, ...args: unknown[]) {
      if (!core.active()) return original.apply(this, args);
      const options = (args[0] ?? {}) as Options;
      const port = portOf(options.port);
      const endpoint = port === null || options.transport === "unix" || text(options.unix)
        ? null
        : { host: text(options.hostname) ?? "127.0.0.1", port, tls: isTls(options) };
      return guarded(core, what, endpoint, () => original.apply(this, args), hooked, true);
    };
    Object.defineProperty(hooked, "name", { value: original.name, configurable: true });
    Object.defineProperty(hooked, "length", { value: original.length, configurable: true });
    return hooked;
  };
  patcher.wrapMethod<Fn>(owner, key, make);
}

/**
 * Wraps the connection functions the runtime has (see the module doc): node:net and node:tls once
 * the app reaches them (see `builtin_reach.ts`), the runtime's own at once.
 */
export const socketLayer: DetectorLayer = {
  name: "socket",
  install(core, patcher) {
    let unsubscribe: (() => void) | undefined;
    const cancels = ([
      ["node:net", false, ["connect", "createConnection"]],
      ["node:tls", true, ["connect"]],
    ] as const).map(([name, tls, keys]) =>
      whenReached(name, (mod) => {
        if (!wrapNodeModule(core, patcher, mod, tls, keys)) return;
        syncBuiltinExports();
        unsubscribe ??= subscribeUndiciConnects() ?? (() => {});
      })
    );
    const g = globalThis as { Deno?: object; Bun?: object };
    if (g.Deno) {
      wrapRuntimeConnect(core, patcher, g.Deno, "connect", "Deno.connect", () => false);
      wrapRuntimeConnect(core, patcher, g.Deno, "connectTls", "Deno.connectTls", () => true);
    }
    if (g.Bun) wrapRuntimeConnect(core, patcher, g.Bun, "connect", "Bun.connect", (o) => !!o.tls);
    return () => {
      for (const cancel of cancels) cancel();
      if (unsubscribe === undefined) return;
      unsubscribe();
      syncBuiltinExports();
    };
  },
};
