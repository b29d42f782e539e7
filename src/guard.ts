/**
 * enableGuard()/disableGuard(): owns the patches, the mode decision and the record output.
 * Detector layers get a {@link GuardCore} when installed and report facts to its `decide()`; data
 * flows detector → decision → record → sink. The live guard is registered process-wide, so every
 * copy of this package in the process shares it (see `registry.ts`).
 *
 * @module
 */
import { AttestationError } from "./errors.ts";
import { type CallMarker, currentFrame, type Frame, runInFrame } from "./context.ts";
import { applicationFrames, captureStack, DEEP_CAPTURE_LIMIT } from "./detect/call_site.ts";
import type { DetectorLayer, GuardCore } from "./detect/layer.ts";
import { Patcher } from "./detect/patcher.ts";
import { matchUrl } from "./detect/providers.ts";
import { fetchLayer } from "./detect/fetch.ts";
import { httpLayer } from "./detect/http.ts";
import { http2Layer } from "./detect/http2.ts";
import { websocketLayer } from "./detect/websocket.ts";
import { undiciLayer } from "./detect/undici.ts";
import { workerLayer } from "./detect/worker.ts";
import { socketLayer } from "./detect/socket.ts";
import { eventSourceLayer } from "./detect/event_source.ts";
import { patchClients } from "./detect/sdk.ts";
import { scopeHook } from "./detect/sdk/hooks.ts";
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
import { flushOnExit } from "./exit_flush.ts";
import { MemoryRing } from "./storage/memory.ts";
import { compareVersions, type GuardOwner, RECORD_V, registry } from "./registry.ts";
import { checkPolicy } from "./policy.ts";
import { processId, runtimeKey } from "./runtime.ts";
import { VERSION } from "./version.ts";

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
  /** Resolves when every record produced so far is durable in its sink (this guard's only). */
  flush(): Promise<void>;
  /** Turns this guard off, like {@link disableGuard}; does nothing once this guard is gone. */
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

/** One guard, from enabling to disabling; reconfiguring keeps it. Handles point here. */
interface Session {
  ring: MemoryRing;
  counters: GuardStats;
  warnedSites: Set<string>;
}

interface Active {
  options: ResolvedOptions;
  output: RecordOutput;
  /** Ends the exit listeners' hold on `output` (once it is closed). */
  forgetOnExit: () => void;
  proc: ProcessFacts;
  session: Session;
}

let active: Active | null = null;
let patcher: Patcher | null = null;
let uninstallers: Array<() => void> = [];
let ready: Promise<void> = Promise.resolve();

const NO_MARKER: CallMarker = Object.freeze({ recorded: true, stack: undefined, settle: null });

function warnOnce(state: Active, record: GuardRecord, policyReason?: string | null): void {
  const key = `${record.call_site ?? record.target}\0${record.violation ?? ""}`;
  if (state.session.warnedSites.has(key)) return;
  state.session.warnedSites.add(key);
  const what = `${record.provider} ${record.operation ?? "call"} (${record.target}) at ${
    record.call_site ?? "an unknown call site"
  }`;
  try {
    state.options.logger.warn(
      record.violation
        ? `aiguard: attestation policy violation (${record.violation}) by ${what}: ${policyReason}.`
        : `aiguard: unattested ${what}: wrap the calling function with attest().`,
    );
  } catch {
    // A broken logger must not break the host app's call.
  }
}

/**
 * Hands a record to the ring, the output and the app's `onRecord`. The record is frozen first: the
 * queue serializes it later, so an `onRecord`, a custom sink or a reader of `records()` that set
 * `attested: true` would otherwise have it written (and sealed) so. It is queued before `onRecord`
 * runs, so a callback that ends the process (`process.exit`) leaves it to the exit flush.
 */
function deliver(state: Active, record: GuardRecord): Settle | null {
  // Copies frozen, not the app's own attestation object.
  record.stack = Object.freeze([...record.stack]) as string[];
  if (record.attestation) record.attestation = Object.freeze({ ...record.attestation });
  Object.freeze(record);
  state.session.ring.push(record);
  // warn mode only logs; report and block send records down the chain.
  const settle = state.options.mode === "warn" ? null : state.output.emit(record);
  try {
    state.options.onRecord?.(record);
  } catch (error) {
    reportSinkFailure(state, "onRecord", error);
  }
  return settle;
}

const sinkFailures = new WeakMap<Session, Set<string>>();
/** Says once per guard and sink name that a sink failed; the call goes on. */
function reportSinkFailure(state: Active | null, name: string, error: unknown): void {
  if (!state) return;
  let seen = sinkFailures.get(state.session);
  if (!seen) sinkFailures.set(state.session, seen = new Set());
  if (seen.has(name)) return;
  seen.add(name);
  try {
    state.options.logger.warn(`aiguard: the ${name} sink failed; records go on without it.`, error);
  } catch {
    // ignore: the logger itself is broken
  }
}

/** Facts an entry hook left on the marker win over a transport's own; an SDK's own facts win. */
function withHint(facts: CallFacts, opened: CallMarker | null): CallFacts {
  if (!opened) return facts;
  const hint = opened.hint;
  if (hint && facts.detector !== "sdk") {
    return { ...facts, ...hint, model: opened.model ?? facts.model, detector: "sdk" };
  }
  return facts.model === null && opened.model ? { ...facts, model: opened.model } : facts;
}

/**
 * An attested call that is neither traced nor judged by a policy: counted, never described,
 * captured or recorded.
 */
function untouched(state: Active, frame: Frame | undefined): boolean {
  return frame?.attestation != null && !state.options.traceAttested && !state.options.policy;
}

function decide(
  given: CallFacts,
  frame: Frame | undefined,
  stack: () => string | undefined,
  canBlock = true,
): CallMarker {
  const state = active;
  if (!state) return NO_MARKER;
  state.session.counters.calls++;
  if (untouched(state, frame)) return NO_MARKER;
  const attestation = frame?.attestation ?? null;
  const { mode, traceAttested, policy } = state.options;
  const above = frame?.call && !frame.call.recorded ? frame.call : null;
  // A call's own entry marker is used up by this decision; a framework run's lends its stack only.
  const opened = above && !above.scope ? above : null;
  const facts = withHint(given, opened);
  const verdict = policy
    ? checkPolicy(policy, facts, attestation ? attestation.id : undefined)
    : null;
  const violation = verdict?.violation ?? null;
  if (attestation && !traceAttested && violation === null) return NO_MARKER;
  if (!attestation) state.session.counters.unattested++;
  // The stack is taken only now that a record is certain (a capture costs microseconds).
  let site = applicationFrames(above?.stack ?? stack() ?? captureStack());
  // No application frame within the usual depth: look deeper from here (where V8's async frames
  // still lead to it; on Bun after an await it stays null).
  if (site.callSite === null) site = applicationFrames(captureStack(DEEP_CAPTURE_LIMIT));
  const blocks = mode === "block" && canBlock;
  const action = violation
    ? (blocks ? "blocked" : "violation")
    : attestation
    ? "allowed"
    : blocks
    ? "blocked"
    : mode === "block" || mode === "report"
    ? "reported"
    : "warned";
  const record = makeRecord(
    facts,
    {
      action,
      mode,
      attestation: attestation && verdict && (verdict.owner !== null || verdict.ticket !== null)
        ? { ...attestation, owner: verdict.owner, ticket: verdict.ticket }
        : attestation,
      callSite: site.callSite,
      stack: site.stack,
      violation,
    },
    state.proc,
  );
  if (action === "warned" || (violation && mode === "warn")) {
    warnOnce(state, record, verdict?.reason);
  }
  const settle = deliver(state, record);
  if (action === "blocked") {
    state.session.counters.blocked++;
    const error = new AttestationError({
      provider: facts.provider,
      operation: facts.operation,
      callSite: site.callSite,
      target: facts.target,
      violation,
      reason: verdict?.reason ?? null,
    });
    settle?.(error);
    throw error;
  }
  if (opened) {
    // An entry hook above opened this frame for the call: mark it recorded rather than entering
    // another frame (each run() costs a context switch).
    opened.recorded = true;
    opened.stack = undefined;
    opened.settle = settle;
    return opened;
  }
  return { recorded: true, stack: undefined, settle };
}

function settle(marker: CallMarker, error?: unknown): void {
  const end = marker.settle;
  if (!end) return;
  marker.settle = null;
  try {
    end(error);
  } catch (failure) {
    reportSinkFailure(active, "otel", failure);
  }
}

/** What every layer is handed: reads of the live guard, and its decision. */
const core: GuardCore = {
  active: () => active !== null,
  options: () => active?.options ?? null,
  rules: () => active?.options.providers ?? [],
  match: (url) => matchUrl(url, active?.options.providers ?? []),
  frame: currentFrame,
  run: runInFrame,
  quiet(frame) {
    const state = active;
    if (state === null || !untouched(state, frame)) return null;
    state.session.counters.calls++;
    return NO_MARKER;
  },
  siteWanted: (attested) => active !== null && (!attested || active.options.traceAttested),
  decide,
  settleWhen(promise, marker) {
    if (marker.settle) {
      promise.then(() => settle(marker), (error) => settle(marker, error));
    }
  },
  settle,
};

function teardownLayers(): void {
  // Patches first: a layer's undo may publish the restored functions (Node's ESM named exports).
  patcher?.restore();
  patcher = null;
  for (const uninstall of uninstallers.reverse()) uninstall();
  uninstallers = [];
}

function installLayers(): Patcher {
  const p = new Patcher();
  for (const layer of LAYERS) {
    const undo = layer.install(core, p);
    if (undo) uninstallers.push(undo);
  }
  return p;
}

function handle(session: Session | null, mode: GuardMode): Guard {
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
    active = null;
    teardownLayers();
    release();
  } else {
    const proc: ProcessFacts = {
      runtime: runtimeKey(),
      service: resolved.service,
      pid: processId(),
    };
    const session: Session = previous?.session ?? {
      ring: new MemoryRing(),
      counters: { calls: 0, unattested: 0, blocked: 0, dropped: 0 },
      warnedSites: new Set(),
    };
    const output = createOutput(resolved, {
      proc,
      onDrop: (n) => (session.counters.dropped += n),
      onFailure: (name, error) => reportSinkFailure(active, name, error),
    });
    active = { options: resolved, output, forgetOnExit: flushOnExit(output), proc, session };
    registry().owner = OWNER;
    patcher ??= installLayers();
    patchClients(core, patcher, resolved.clients);
    const p = patcher;
    const discover = registry().discover;
    ready = resolved.discover && discover
      ? discover().then((found) => {
        if (patcher === p) patchClients(core, p, found);
      })
      : Promise.resolve();
  }
  if (previous && previous.output !== active?.output) {
    previous.output.close().catch((error) => reportSinkFailure(previous, "close", error))
      .finally(previous.forgetOnExit);
  }
  return handle(active?.session ?? null, resolved.mode);
}

async function localDisable(): Promise<void> {
  const state = active;
  active = null;
  teardownLayers();
  release();
  if (state) await state.output.close().finally(state.forgetOnExit);
}

function localFlush(): Promise<void> {
  return active?.output.flush() ?? Promise.resolve();
}

/** Gives the process-wide guard back once this copy's guard is off. */
function release(): void {
  const shared = registry();
  if (shared.owner === OWNER) shared.owner = null;
}

const OWNER: GuardOwner = {
  version: VERSION,
  v: RECORD_V,
  enable: (options) => localEnable(options as GuardOptions | undefined),
  disable: localDisable,
  flush: localFlush,
  teardown() {
    const state = active;
    active = null;
    teardownLayers();
    release();
    state?.output.close().catch(() => {}).finally(state.forgetOnExit);
  },
  patch(clients) {
    if (active?.options.discover && patcher) patchClients(core, patcher, clients);
  },
  wrapEntry<F extends (...args: never[]) => unknown>(fn: F): F {
    const wrapped = scopeHook(core, fn as never);
    Object.defineProperty(wrapped, "name", { value: fn.name, configurable: true });
    Object.defineProperty(wrapped, "length", { value: fn.length, configurable: true });
    return wrapped as unknown as F;
  },
};

function sayOnce(message: string): void {
  const said = registry().said;
  if (said.has(message)) return;
  said.add(message);
  console.warn(message);
}

/** The copy whose guard serves this call: another live copy's, or this one's. */
function owner(): GuardOwner {
  const shared = registry();
  const other = shared.owner;
  if (other === null || other === OWNER) return OWNER;
  if (other.v === RECORD_V) return other;
  if (compareVersions(VERSION, other.version) > 0) {
    sayOnce(
      `aiguard: ${VERSION} takes over the guard of ${other.version} loaded in the same process ` +
        `(record format v${RECORD_V} vs v${other.v}).`,
    );
    other.teardown();
    return OWNER;
  }
  sayOnce(
    `aiguard: ${VERSION} leaves the guard to the newer ${other.version} loaded in the same process.`,
  );
  return other;
}

/**
 * Turns the guard on, or reconfigures the live one (a second call never patches twice, also from
 * another copy of this package in the same process). Options in code win over `AIGUARD_*`
 * variables, which win over `aiguard.jsonc`.
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
  return owner().enable(options) as Guard;
}

/**
 * Flushes every record, then restores `fetch` and every patched function to the exact originals.
 * The process-wide switch: it turns off the live guard, whichever copy or handle enabled it.
 *
 * @example
 * ```ts
 * import { disableGuard, enableGuard } from "@aiguard/attest";
 *
 * enableGuard({ mode: "report", sinks: ["memory"] });
 * await disableGuard();
 * ```
 */
export function disableGuard(): Promise<void> {
  return owner().disable();
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
  return owner().flush();
}
