/**
 * This copy's guard: the process state it keeps (the live guard, the patches, the layers' undos),
 * turning it on, reconfiguring it and turning it off, and {@link LOCAL_OWNER}, what this copy
 * offers the other copies of the package in the process (see `handoff.ts`).
 *
 * @module
 */
import type { GuardMode, ProcessFacts } from "../report/record.ts";
import type { DetectorLayer } from "../detect/layer.ts";
import { Patcher } from "../detect/patcher.ts";
import { fetchLayer } from "../detect/fetch.ts";
import { httpLayer } from "../detect/http.ts";
import { http2Layer } from "../detect/http2.ts";
import { websocketLayer } from "../detect/websocket.ts";
import { undiciLayer } from "../detect/undici.ts";
import { workerLayer } from "../detect/worker.ts";
import { socketLayer } from "../detect/socket.ts";
import { eventSourceLayer } from "../detect/event_source.ts";
import { type GuardOptions, optionsFromEnv, resolveOptions, validateOptions } from "../config.ts";
import { optionsFromConfigFile } from "../config_file.ts";
import type { AnyRecord } from "../report/record.ts";
import { flushOnExit } from "../exit_flush.ts";
import { deferredOutput, sdkParts, sdkPartsLater } from "./parts.ts";
import { MemoryRing } from "../storage/memory.ts";
import { type GuardOwner, RECORD_V, registry } from "../registry.ts";
import { processId, runtimeKey } from "../runtime.ts";
import { VERSION } from "../version.ts";
import {
  type Active,
  createCore,
  type GuardStats,
  reportSinkFailure,
  type Session,
} from "./decision.ts";

/** The live guard, as returned by `enableGuard()`. */
export interface Guard {
  /** The mode in force. */
  readonly mode: GuardMode;
  /** Resolves once SDK auto-discovery has patched what it found. */
  readonly ready: Promise<void>;
  /** Resolves when every record produced so far is durable in its sink (this guard's only). */
  flush(): Promise<void>;
  /** Turns this guard off, like `disableGuard()`; does nothing once this guard is gone. */
  disable(): Promise<void>;
  /** This guard's memory ring, newest last. */
  records(): AnyRecord[];
  /** This guard's counters. */
  stats(): GuardStats;
}

/** The layers, lowest last: an upper layer's marker keeps the ones below quiet. */
const LAYERS: readonly DetectorLayer[] = [
  fetchLayer,
  httpLayer,
  http2Layer,
  websocketLayer,
  eventSourceLayer,
  undiciLayer,
  socketLayer,
  workerLayer,
];

let active: Active | null = null;
let patcher: Patcher | null = null;
let uninstallers: Array<() => void> = [];
let ready: Promise<void> = Promise.resolve();

const core = createCore(() => active);

function teardownLayers(): void {
  // Patches first: a layer's undo may publish the restored functions (Node's ESM named exports).
  patcher?.restore();
  patcher = null;
  for (const uninstall of uninstallers.reverse()) uninstall();
  uninstallers = [];
}

/**
 * The SDK layer is loaded with the first client there is to patch (see `parts.ts`); where it has
 * to be imported, the clients are patched once it is in (their instances made meanwhile too).
 */
function patchClients(p: Patcher, clients: readonly unknown[]): void {
  if (clients.length === 0) return;
  const parts = sdkParts();
  if (parts) parts.patchClients(core, p, clients);
  else {
    sdkPartsLater().then((loaded) => {
      if (patcher === p) loaded.patchClients(core, p, clients);
    }, () => {});
  }
}

function installLayers(): Patcher {
  const p = new Patcher();
  for (const layer of LAYERS) {
    const undo = layer.install(core, p);
    if (undo) uninstallers.push(undo);
  }
  return p;
}

/**
 * The one way this copy's guard stops: no live state, every patch back, the process-wide guard
 * given back. Returns the guard that was live, whose output the caller still closes (with
 * {@link closeOutput}) as it needs: awaited, reported or ignored.
 */
function stop(): Active | null {
  const state = active;
  active = null;
  teardownLayers();
  const shared = registry();
  if (shared.owner === LOCAL_OWNER) shared.owner = null;
  return state;
}

/** Writes what the guard still holds and lets the exit listeners forget its output. */
function closeOutput(state: Active): Promise<void> {
  return state.output.close().finally(state.forgetOnExit);
}

/** The `Guard` an `enableGuard()` call returns: it acts only while its session is the live one. */
function guardFor(session: Session | null, mode: GuardMode): Guard {
  const live = () => session !== null && active?.session === session;
  return {
    mode,
    ready,
    flush: () => (live() ? active!.output.flush() : Promise.resolve()),
    disable: () => (live() ? localDisable() : Promise.resolve()),
    records: () => session?.ring.toArray() ?? [],
    stats: () => ({
      ...(session?.counters ?? { calls: 0, unattested: 0, blocked: 0, dropped: 0 }),
    }),
  };
}

function localEnable(options?: GuardOptions): Guard {
  const fromCode = validateOptions(options, "enableGuard() options");
  const resolved = resolveOptions(fromCode, optionsFromEnv(), optionsFromConfigFile());
  const previous = active;
  if (resolved.mode === "off") {
    stop();
  } else {
    const proc: ProcessFacts = {
      runtime: runtimeKey(),
      service: resolved.service,
      pid: processId(),
    };
    const session: Session = previous?.session ?? {
      ring: new MemoryRing(),
      counters: { calls: 0, unattested: 0, blocked: 0, dropped: 0 },
      said: new Set(),
    };
    const onFailure = (name: string, error: unknown) => reportSinkFailure(active, name, error);
    const output = deferredOutput(
      (createOutput) =>
        createOutput(resolved, {
          proc,
          onDrop: (n) => (session.counters.dropped += n),
          onFailure,
        }),
      (error) => onFailure("output", error),
    );
    active = { options: resolved, output, forgetOnExit: flushOnExit(output), proc, session };
    registry().owner = LOCAL_OWNER;
    patcher ??= installLayers();
    patchClients(patcher, resolved.clients);
    const p = patcher;
    const discover = registry().discover;
    ready = resolved.discover && discover
      ? discover().then((found) => {
        if (patcher === p) patchClients(p, found);
      })
      : Promise.resolve();
  }
  if (previous && previous.output !== active?.output) {
    closeOutput(previous).catch((error) => reportSinkFailure(previous, "close", error));
  }
  return guardFor(active?.session ?? null, resolved.mode);
}

async function localDisable(): Promise<void> {
  const state = stop();
  if (state) await closeOutput(state);
}

/**
 * What this copy offers the other copies in the process: its guard, behind the registry's
 * {@link GuardOwner} interface.
 *
 * @example
 * ```ts
 * import { LOCAL_OWNER } from "./local.ts";
 *
 * const guard = LOCAL_OWNER.enable({ mode: "report", sinks: ["memory"] });
 * await LOCAL_OWNER.disable();
 * ```
 */
export const LOCAL_OWNER: GuardOwner = {
  version: VERSION,
  v: RECORD_V,
  enable: (options) => localEnable(options as GuardOptions | undefined),
  disable: localDisable,
  flush: () => active?.output.flush() ?? Promise.resolve(),
  teardown() {
    const state = stop();
    if (state) closeOutput(state).catch(() => {});
  },
  patch(clients) {
    if (active?.options.discover && patcher) patchClients(patcher, clients);
  },
  wrapEntry<F extends (...args: never[]) => unknown>(fn: F): F {
    // While the SDK layer is being imported, calls go through unscoped (the transports see them);
    // the scoped function is made once, when the layer is in.
    let scoped: ((...args: unknown[]) => unknown) | null = null;
    const scope = () => (scoped ??= sdkParts()?.scopeHook(core, fn as never) ?? null);
    const wrapped = scope() ?? function (this: unknown, ...args: unknown[]): unknown {
      return Reflect.apply(scope() ?? fn, this, args);
    };
    Object.defineProperty(wrapped, "name", { value: fn.name, configurable: true });
    Object.defineProperty(wrapped, "length", { value: fn.length, configurable: true });
    return wrapped as unknown as F;
  },
};
