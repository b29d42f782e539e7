/**
 * The WebSocket layer: OpenAI Realtime, Azure realtime and Gemini Live open WebSockets, which no
 * HTTP hook sees. The global `WebSocket` (Node 22+, Deno, Bun, workerd) is replaced by a Proxy whose
 * construct trap decides before the upgrade request is made. The `ws` package goes through
 * node:http on Node and Deno (the http layer sees its upgrade request); Bun's built-in `ws` is
 * reached through its class (`patchWsClass`), whose client setup assigns `_url` before connecting.
 *
 * @module
 */
import type { CallMarker } from "../context.ts";
import type { CallFacts } from "../report/record.ts";
import { runtimeKey } from "../runtime.ts";
import { startedBeforeApp } from "./builtin_reach.ts";
import { decideRequest, type DetectorLayer, type GuardCore, runMarked } from "./layer.ts";
import type { Patcher } from "./patcher.ts";
import { modelFromPath, type ProviderMatch, transportFacts } from "./providers.ts";

const MODEL_IN_QUERY = /[?&]model=([^&#]{1,256})/;

/** A realtime connection: operation `realtime`, the model from the `model` query parameter. */
export function describeWebSocket(match: ProviderMatch, url: string): CallFacts {
  const query = MODEL_IN_QUERY.exec(url)?.[1];
  let model: string | null = null;
  if (query !== undefined) {
    try {
      model = decodeURIComponent(query.replace(/\+/g, " "));
    } catch {
      model = query;
    }
  }
  return transportFacts(match, "websocket", "websocket", model ?? modelFromPath(match.path));
}

function urlText(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (value instanceof URL) return value.href;
  return null;
}

interface EventTargetLike {
  addEventListener?(type: string, listener: () => void, options?: { once?: boolean }): void;
}

/** Ends the span once the connection opens or fails. */
function settleOnOpen(core: GuardCore, socket: unknown, marker: CallMarker): void {
  if (!marker.settle) return;
  const target = socket as EventTargetLike;
  if (typeof target?.addEventListener !== "function") return;
  for (const type of ["open", "error", "close"]) {
    target.addEventListener(type, () => core.settle(marker), { once: true });
  }
}

type SocketClass = new (...args: unknown[]) => object;

/** The class in place of the runtime's: a Proxy whose construct trap decides first. */
function guardedClass(core: GuardCore, Original: SocketClass): SocketClass {
  const Guarded: SocketClass = new Proxy(Original, {
    construct: function construct(target, args, newTarget) {
      const self = newTarget === Guarded ? target : newTarget;
      const url = core.active() ? urlText(args[0]) : null;
      const match = url === null ? null : core.match(url);
      // Ordinary connections: no closure, no frame, straight to the runtime's class.
      if (match === null) return Reflect.construct(target, args, self);
      const frame = core.frame();
      const marker = decideRequest(core, frame, () => describeWebSocket(match, url!), construct);
      if (marker === null) return Reflect.construct(target, args, self);
      // Under the marker: Node's WebSocket connects through undici, whose layer stays quiet.
      const socket = runMarked(core, frame, marker, () => Reflect.construct(target, args, self));
      settleOnOpen(core, socket, marker);
      return socket;
    },
  });
  return Guarded;
}

interface NodeProcess {
  moduleLoadList?: readonly string[];
  getBuiltinModule?(id: string): { WebSocket?: unknown } | undefined;
}

/**
 * Node's global `WebSocket` is a lazy data property: reading it, even its descriptor, loads
 * undici (milliseconds at every start). Under the preload, before any of the app's code, while
 * undici is not loaded, the global is deleted (which does not read it) and an accessor put in its
 * place reads the same class from node:http, where Node exposes it too, on the app's first read,
 * then leaves a data property like Node's. `null` where this does not apply (undici loaded, not
 * Node, or the guard enabled in code: the app may have put its own class there without reading
 * Node's, and nothing tells the two apart without loading undici, so the global is read and
 * wrapped as it is).
 */
function nodeLazyClass(): (() => SocketClass | undefined) | null {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (
    runtimeKey() !== "node" || !startedBeforeApp() ||
    typeof proc?.getBuiltinModule !== "function" ||
    !Object.prototype.hasOwnProperty.call(globalThis, "WebSocket") ||
    proc.moduleLoadList?.includes("NativeModule internal/deps/undici/undici") !== false
  ) return null;
  return () => {
    const Original = proc.getBuiltinModule!("node:http")?.WebSocket;
    return typeof Original === "function" ? Original as SocketClass : undefined;
  };
}

/** A global `name` read as `make()` on first use, then a plain data property (as Node's is). */
function defineOnFirstRead(name: string, make: () => unknown): () => unknown {
  const g = globalThis as Record<string, unknown>;
  const settle = (value: unknown) =>
    Object.defineProperty(g, name, {
      value,
      writable: true,
      enumerable: false,
      configurable: true,
    });
  const get = () => {
    const value = make();
    settle(value);
    return value;
  };
  Object.defineProperty(g, name, { get, set: settle, enumerable: false, configurable: true });
  return get;
}

/** Node before undici is loaded: the global is guarded on the app's first read of it. */
function installOnFirstRead(core: GuardCore, original: () => SocketClass | undefined): () => void {
  const g = globalThis as Record<string, unknown>;
  let Original: SocketClass | undefined;
  let Guarded: SocketClass | undefined;
  delete g.WebSocket;
  const ours = defineOnFirstRead("WebSocket", () => {
    Original = original();
    return Guarded = Original && guardedClass(core, Original);
  });
  return () => {
    const now = Object.getOwnPropertyDescriptor(g, "WebSocket");
    // Never read: the original stays unread too. Read: the original class back, unless the app
    // put its own there since.
    if (now?.get === ours) defineOnFirstRead("WebSocket", original);
    else if (Guarded !== undefined && now?.value === Guarded) g.WebSocket = Original;
  };
}

/** Wraps `globalThis.WebSocket`; the undo puts the original class back. */
export const websocketLayer: DetectorLayer = {
  name: "websocket",
  install(core, patcher) {
    const lazy = nodeLazyClass();
    if (lazy !== null) return installOnFirstRead(core, lazy);
    patcher.wrapValue<SocketClass>(
      globalThis,
      "WebSocket",
      (Original) => guardedClass(core, Original),
    );
  },
};

/**
 * Patches a `ws`-style client class whose connection setup assigns `this._url` before connecting
 * (Bun's built-in `ws`): a prototype setter decides there, so block mode throws from the
 * constructor. Not used where `ws` goes through node:http (Node, Deno): that layer sees it.
 */
export function patchWsClass(
  core: GuardCore,
  patcher: Patcher,
  Ws: { prototype: object },
): boolean {
  const proto = Ws.prototype;
  if (Object.prototype.hasOwnProperty.call(proto, "_url")) return false;
  return patcher.define(proto, "_url", {
    enumerable: false,
    get: () => undefined,
    set: function setUrl(this: object, value: unknown) {
      Object.defineProperty(this, "_url", {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
      if (!core.active() || typeof value !== "string") return;
      const match = core.match(value);
      if (match === null) return;
      // The connection is made right after this assignment, in the same synchronous call: the
      // record (and, in block mode, the throw out of the constructor) comes first.
      decideRequest(core, core.frame(), () => describeWebSocket(match, value), setUrl);
    },
  });
}
