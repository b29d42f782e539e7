/**
 * enableGuard()/disableGuard(): owns the patches, the mode decision and the record output.
 * Detectors report facts to `guardCall()`; data flows detector → decision → record → sink.
 *
 * @module
 */
import { AttestationError } from "./errors.ts";
import type { CallMarker, Frame } from "./context.ts";
import { applicationFrames, captureStack, DEEP_CAPTURE_LIMIT } from "./detect/call_site.ts";
import { Patcher } from "./detect/patcher.ts";
import { installFetchLayer } from "./detect/fetch.ts";
import { discoverClients, patchClients } from "./detect/sdk.ts";
import { installUndiciLayer } from "./detect/undici.ts";
import {
  type GuardOptions,
  optionsFromEnv,
  type ResolvedOptions,
  resolveOptions,
  validateOptions,
} from "./config.ts";
import { optionsFromConfigFile } from "./config_file.ts";
import {
  type AnyRecord,
  type CallFacts,
  type GuardMode,
  type GuardRecord,
  makeRecord,
  type ProcessFacts,
} from "./report/record.ts";
import type { RecordOutput, Settle } from "./report/sink.ts";
import { createOutput } from "./report/chain.ts";
import { MemoryRing } from "./storage/memory.ts";
import { processId, runtimeKey } from "./runtime.ts";

/** Counters since the guard was enabled. */
export interface GuardStats {
  /** AI calls seen. */
  calls: number;
  /** Of those, outside an attested scope. */
  unattested: number;
  /** Of those, stopped in block mode. */
  blocked: number;
  /** Records the queue had to drop. */
  dropped: number;
}

/** The live guard, as returned by {@link enableGuard}. */
export interface Guard {
  /** The mode in force. */
  readonly mode: GuardMode;
  /** Resolves once SDK auto-discovery has patched what it found. */
  readonly ready: Promise<void>;
  /** Resolves when every record produced so far is durable in its sink. */
  flush(): Promise<void>;
  /** Same as {@link disableGuard}. */
  disable(): Promise<void>;
  /** The memory ring, newest last. */
  records(): AnyRecord[];
  /** Counters since enabling. */
  stats(): GuardStats;
}

interface Active {
  options: ResolvedOptions;
  output: RecordOutput;
  ring: MemoryRing;
  counters: GuardStats;
  warnedSites: Set<string>;
  proc: ProcessFacts;
}

let active: Active | null = null;
let patcher: Patcher | null = null;
let uninstallers: Array<() => void> = [];
let ready: Promise<void> = Promise.resolve();

const NO_MARKER: CallMarker = Object.freeze({ recorded: true, stack: undefined, settle: null });

/**
 * The fast path of an attested call when attested calls are not traced: nothing is described,
 * captured or recorded, the call is only counted. Returns the marker to run it under (so lower
 * layers stay quiet), or `null` when the call needs the full decision of {@link guardCall}.
 */
export function quietMarker(frame: Frame | undefined): CallMarker | null {
  const state = active;
  if (state === null || !frame?.attestation || state.options.traceAttested) return null;
  state.counters.calls++;
  return NO_MARKER;
}

/** Whether the site of an unattested (or, with traceAttested, any) call is wanted. */
export function siteWanted(attested: boolean): boolean {
  return active !== null && (!attested || active.options.traceAttested);
}

/** Whether a guard is live (mode other than `off`). Detectors ask this first: it is the cheap check. */
export function guardActive(): boolean {
  return active !== null;
}

/** The extra provider rules of the live guard. */
export function activeRules(): ResolvedOptions["providers"] {
  return active?.options.providers ?? [];
}

function warnOnce(state: Active, record: GuardRecord): void {
  const key = record.call_site ?? record.target;
  if (state.warnedSites.has(key)) return;
  state.warnedSites.add(key);
  try {
    state.options.logger.warn(
      `aiguard: unattested ${record.provider} ${record.operation ?? "call"} (${record.target}) ` +
        `at ${
          record.call_site ?? "an unknown call site"
        }: wrap the calling function with attest().`,
    );
  } catch {
    // A broken logger must not break the host app's call.
  }
}

function deliver(state: Active, record: GuardRecord): Settle | null {
  state.ring.push(record);
  try {
    state.options.onRecord?.(record);
  } catch (error) {
    reportSinkFailure(state, "onRecord", error);
  }
  // warn mode only logs; report and block send records down the chain.
  return state.options.mode === "warn" ? null : state.output.emit(record);
}

const sinkFailures = new WeakMap<Active, Set<string>>();
/** Says once per guard and sink name that a sink failed; the call goes on. */
export function reportSinkFailure(state: Active | null, name: string, error: unknown): void {
  const target = state ?? active;
  if (!target) return;
  let seen = sinkFailures.get(target);
  if (!seen) sinkFailures.set(target, seen = new Set());
  if (seen.has(name)) return;
  seen.add(name);
  try {
    target.options.logger.warn(
      `aiguard: the ${name} sink failed; records go on without it.`,
      error,
    );
  } catch {
    // ignore: the logger itself is broken
  }
}

/**
 * The decision for one AI call, made before anything is sent. Returns the marker under which the
 * call must run (so lower layers stay quiet); throws {@link AttestationError} in block mode.
 */
export function guardCall(
  facts: CallFacts,
  frame: Frame | undefined,
  stack?: string,
  canBlock = true,
): CallMarker {
  const state = active;
  if (!state) return NO_MARKER;
  state.counters.calls++;
  const attestation = frame?.attestation ?? null;
  const { mode, traceAttested } = state.options;
  if (attestation && !traceAttested) return NO_MARKER;
  if (!attestation) state.counters.unattested++;
  let site = applicationFrames(stack ?? frame?.call?.stack ?? captureStack());
  // No application frame within the usual depth: look deeper from here (where V8's async frames
  // still lead to it; on Bun after an await it stays null).
  if (site.callSite === null) site = applicationFrames(captureStack(DEEP_CAPTURE_LIMIT));
  const action = attestation
    ? "allowed"
    : mode === "block"
    ? (canBlock ? "blocked" : "reported")
    : mode === "report"
    ? "reported"
    : "warned";
  const record = makeRecord(
    facts,
    { action, mode, attestation, callSite: site.callSite, stack: site.stack },
    state.proc,
  );
  if (action === "warned") warnOnce(state, record);
  const settle = deliver(state, record);
  if (action === "blocked") {
    state.counters.blocked++;
    const error = new AttestationError({
      provider: facts.provider,
      operation: facts.operation,
      callSite: site.callSite,
      target: facts.target,
    });
    settle?.(error);
    throw error;
  }
  return { recorded: true, stack: undefined, settle };
}

/** Runs a guarded call's settle without letting a sink failure reach the host app. */
export function settleSafely(marker: CallMarker | null | undefined, error?: unknown): void {
  const settle = marker?.settle;
  if (!settle) return;
  marker.settle = null;
  try {
    settle(error);
  } catch (failure) {
    reportSinkFailure(null, "otel", failure);
  }
}

/** Ends the marker's span when `promise` settles (headers or failure); the promise is untouched. */
export function settleWhen(promise: Promise<unknown>, marker: CallMarker): void {
  if (marker.settle) {
    promise.then(() => settleSafely(marker), (error) => settleSafely(marker, error));
  }
}

let exitHookInstalled = false;
/** Flushes on normal exit: `beforeExit` on Node and Bun, `beforeunload` on Deno. */
function installExitFlush(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const g = globalThis as {
    Deno?: unknown;
    addEventListener?: (type: string, fn: () => void) => void;
    process?: { on?: (event: string, fn: () => void) => void };
  };
  const onExit = () => {
    if (active) active.output.flush().catch(() => {});
  };
  if (g.Deno !== undefined && typeof g.addEventListener === "function") {
    g.addEventListener("beforeunload", onExit);
  } else if (typeof g.process?.on === "function") {
    g.process.on("beforeExit", onExit);
  }
}

function teardownLayers(): void {
  for (const uninstall of uninstallers.reverse()) uninstall();
  uninstallers = [];
  patcher?.restore();
  patcher = null;
}

/**
 * Turns the guard on, or reconfigures the live one (a second call never patches twice).
 * Options in code win over `AIGUARD_*` variables, which win over `aiguard.jsonc`.
 *
 * @example Block unattested AI calls in a test suite
 * ```ts
 * import { enableGuard } from "@aiguard/attest";
 *
 * const guard = enableGuard({ mode: "block", sinks: ["memory"] });
 * // ... run tests: an unattested AI call throws AttestationError before anything is sent
 * console.log(guard.stats());
 * await guard.disable();
 * ```
 */
export function enableGuard(options?: GuardOptions): Guard {
  const fromCode = validateOptions(options, "enableGuard() options");
  const resolved = resolveOptions(fromCode, optionsFromEnv(), optionsFromConfigFile());
  const previous = active;
  if (resolved.mode === "off") {
    active = null;
    teardownLayers();
  } else {
    const proc: ProcessFacts = {
      runtime: runtimeKey(),
      service: resolved.service,
      pid: processId(),
    };
    const ring = previous?.ring ?? new MemoryRing();
    const counters = previous?.counters ?? { calls: 0, unattested: 0, blocked: 0, dropped: 0 };
    const output = createOutput(resolved, {
      proc,
      onDrop: (n) => (counters.dropped += n),
      onFailure: (name, error) => reportSinkFailure(active, name, error),
    });
    active = {
      options: resolved,
      output,
      ring,
      counters,
      warnedSites: previous?.warnedSites ?? new Set(),
      proc,
    };
    installExitFlush();
    if (!patcher) {
      patcher = new Patcher();
      uninstallers.push(installFetchLayer());
      const undici = installUndiciLayer();
      if (undici) uninstallers.push(undici);
    }
    patchClients(patcher, resolved.clients);
    const p = patcher;
    ready = resolved.discover
      ? discoverClients().then((found) => {
        if (patcher === p) patchClients(p, found);
      })
      : Promise.resolve();
  }
  if (previous && previous.output !== active?.output) {
    previous.output.close().catch((error) => reportSinkFailure(previous, "close", error));
  }
  const state = active;
  return {
    mode: resolved.mode,
    ready,
    flush: () => state?.output.flush() ?? Promise.resolve(),
    disable: disableGuard,
    records: () => (state ?? previous)?.ring.toArray() ?? [],
    stats: () => ({
      ...((state ?? previous)?.counters ?? { calls: 0, unattested: 0, blocked: 0, dropped: 0 }),
    }),
  };
}

/**
 * Flushes every record, then restores `fetch` and every patched SDK method to the exact original
 * functions.
 *
 * @example
 * ```ts
 * import { disableGuard, enableGuard } from "@aiguard/attest";
 *
 * enableGuard({ mode: "report", sinks: ["memory"] });
 * await disableGuard();
 * ```
 */
export async function disableGuard(): Promise<void> {
  const state = active;
  active = null;
  teardownLayers();
  if (state) await state.output.close();
}

/**
 * Resolves when every record produced so far is durable in its sink.
 *
 * @example
 * ```ts
 * import { flush } from "@aiguard/attest";
 *
 * await flush();
 * ```
 */
export function flush(): Promise<void> {
  return active?.output.flush() ?? Promise.resolve();
}
