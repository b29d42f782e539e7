/**
 * The decision for one AI call: what a detector layer reports through its {@link GuardCore} is
 * judged against the live guard's mode and policy, recorded, delivered and, in block mode, stopped.
 * The live guard is read through a function the process state hands in, so this file holds no
 * state of its own.
 *
 * @module
 */
import { AttestationError } from "../errors.ts";
import { type CallMarker, currentFrame, type Frame, runInFrame } from "../context.ts";
import { applicationFrames, captureStack, DEEP_CAPTURE_LIMIT } from "../detect/call_site.ts";
import type { GuardCore } from "../detect/layer.ts";
import { matchUrl } from "../detect/providers.ts";
import type { ResolvedOptions } from "../config.ts";
import {
  type CallFacts,
  type GuardRecord,
  makeRecord,
  type ProcessFacts,
} from "../report/record.ts";
import type { RecordOutput, Settle } from "../report/sink.ts";
import type { MemoryRing } from "../storage/memory.ts";
import { checkPolicy } from "../policy.ts";
import { actionFor, type LiveMode } from "./action.ts";
import { sayOnce } from "./say_once.ts";

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

/** One guard, from enabling to disabling; reconfiguring keeps it. Handles point here. */
export interface Session {
  ring: MemoryRing;
  counters: GuardStats;
  /** What this guard has warned of: each call site (with its violation) and each failed sink. */
  said: Set<string>;
}

/** The live guard of this copy: its options, its output and its session. */
export interface Active {
  options: ResolvedOptions;
  output: RecordOutput;
  /** Ends the exit listeners' hold on `output` (once it is closed). */
  forgetOnExit: () => void;
  proc: ProcessFacts;
  session: Session;
}

/**
 * The marker of a call that needs nothing more (recorded, or only counted): the layers below it
 * stay quiet, and there is no span to end.
 */
const RECORDED_MARKER: CallMarker = Object.freeze({
  recorded: true,
  stack: undefined,
  settle: null,
});

/** Warns of an unattested call (or a policy violation) once per call site and violation. */
function warnOfCall(state: Active, record: GuardRecord, policyReason?: string | null): void {
  const key = `site\0${record.call_site ?? record.target}\0${record.violation ?? ""}`;
  sayOnce(state.session.said, key, () => {
    const what = `${record.provider} ${record.operation ?? "call"} (${record.target}) at ${
      record.call_site ?? "an unknown call site"
    }`;
    state.options.logger.warn(
      record.violation
        ? `aiguard: attestation policy violation (${record.violation}) by ${what}: ${policyReason}.`
        : `aiguard: unattested ${what}: wrap the calling function with attest().`,
    );
  });
}

/**
 * Hands a record to the ring, the output and the app's `onRecord`. The record is frozen first: the
 * queue serializes it later, so an `onRecord`, a custom sink or a reader of `records()` that set
 * `attested: true` would otherwise have it written (and sealed) so. It is queued before `onRecord`
 * runs, so a callback that ends the process (`process.exit`) leaves it to the exit flush.
 */
function deliver(state: Active, record: GuardRecord): Settle | null {
  // makeRecord's stack is frozen already and its attestation is a copy of its own, never the
  // app's object: frozen in place. (No `Object.isFrozen` check here: on Bun it cost more than the
  // rest of the record's making, bench/NOTES.md.)
  if (record.attestation) Object.freeze(record.attestation);
  Object.freeze(record);
  state.session.ring.push(record, true);
  // warn mode only logs; report and block send records down the chain.
  const settle = state.options.mode === "warn" ? null : state.output.emit(record);
  try {
    state.options.onRecord?.(record);
  } catch (error) {
    reportSinkFailure(state, "onRecord", error);
  }
  return settle;
}

/**
 * Says once per guard and sink name that a sink failed; the call goes on.
 *
 * @example
 * ```ts
 * import { reportSinkFailure } from "./decision.ts";
 *
 * reportSinkFailure(null, "otel", new Error("collector gone")); // no live guard: nothing to say
 * ```
 */
export function reportSinkFailure(state: Active | null, name: string, error: unknown): void {
  if (!state) return;
  sayOnce(state.session.said, `sink\0${name}`, () => {
    state.options.logger.warn(`aiguard: the ${name} sink failed; records go on without it.`, error);
  });
}

/** Facts an entry hook left on the marker win over a transport's own; an SDK's own facts win. */
function withEntryFacts(facts: CallFacts, entry: CallMarker | null): CallFacts {
  if (!entry) return facts;
  const known = entry.entryFacts;
  if (known && facts.detector !== "sdk") {
    return { ...facts, ...known, model: entry.model ?? facts.model, detector: "sdk" };
  }
  return facts.model === null && entry.model ? { ...facts, model: entry.model } : facts;
}

/**
 * An attested call that is neither traced nor judged by a policy: counted, never described,
 * captured or recorded.
 */
function countedOnly(state: Active, frame: Frame | undefined): boolean {
  return frame?.attestation != null && !state.options.traceAttested && !state.options.policy;
}

function decide(
  state: Active | null,
  given: CallFacts,
  frame: Frame | undefined,
  stack: () => string | undefined,
  canBlock = true,
): CallMarker {
  if (!state) return RECORDED_MARKER;
  state.session.counters.calls++;
  if (countedOnly(state, frame)) return RECORDED_MARKER;
  const attestation = frame?.attestation ?? null;
  const { mode, traceAttested, policy } = state.options;
  const outerCall = frame?.call && !frame.call.recorded ? frame.call : null;
  // A call's own entry marker is used up by this decision; a framework run's lends its stack only.
  const entryMarker = outerCall && !outerCall.scope ? outerCall : null;
  const facts = withEntryFacts(given, entryMarker);
  const verdict = policy
    ? checkPolicy(policy, facts, attestation ? attestation.id : undefined)
    : null;
  const violation = verdict?.violation ?? null;
  if (attestation && !traceAttested && violation === null) return RECORDED_MARKER;
  if (!attestation) state.session.counters.unattested++;
  // The stack is taken only now that a record is certain (a capture costs microseconds).
  let site = applicationFrames(outerCall?.stack ?? stack() ?? captureStack());
  // No application frame within the usual depth: look deeper from here (where V8's async frames
  // still lead to it; on Bun after an await it stays null).
  if (site.callSite === null) site = applicationFrames(captureStack(DEEP_CAPTURE_LIMIT));
  // A live guard's mode is never off.
  const action = actionFor(mode as LiveMode, attestation !== null, violation !== null, canBlock);
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
  // warn mode logs what report and block mode send down the chain.
  if (mode === "warn" && action !== "allowed") warnOfCall(state, record, verdict?.reason);
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
  if (entryMarker) {
    // An entry hook above opened this frame for the call: mark it recorded rather than entering
    // another frame (each run() costs a context switch).
    entryMarker.recorded = true;
    entryMarker.stack = undefined;
    entryMarker.settle = settle;
    return entryMarker;
  }
  return { recorded: true, stack: undefined, settle };
}

function settle(state: Active | null, marker: CallMarker, error?: unknown): void {
  const end = marker.settle;
  if (!end) return;
  marker.settle = null;
  try {
    end(error);
  } catch (failure) {
    reportSinkFailure(state, "otel", failure);
  }
}

/**
 * What every layer is handed: reads of the live guard, and its decision. `live` returns this
 * copy's live guard (`null` when none); it is read at every call, so reconfiguring needs no new
 * core.
 *
 * @example
 * ```ts
 * import { createCore } from "./decision.ts";
 *
 * const core = createCore(() => null);
 * core.active(); // false: no live guard, every layer lets calls through untouched
 * ```
 */
export function createCore(live: () => Active | null): GuardCore {
  return {
    active: () => live() !== null,
    options: () => live()?.options ?? null,
    rules: () => live()?.options.providers ?? [],
    match: (url) => matchUrl(url, live()?.options.providers ?? []),
    frame: currentFrame,
    run: runInFrame,
    countAttested(frame) {
      const state = live();
      if (state === null || !countedOnly(state, frame)) return null;
      state.session.counters.calls++;
      return RECORDED_MARKER;
    },
    siteWanted(attested) {
      const state = live();
      return state !== null && (!attested || state.options.traceAttested);
    },
    decide: (facts, frame, stack, canBlock) => decide(live(), facts, frame, stack, canBlock),
    settleWhen(promise, marker) {
      if (marker.settle) {
        promise.then(() => settle(live(), marker), (error) => settle(live(), marker, error));
      }
    },
    settle: (marker, error) => settle(live(), marker, error),
  };
}
