/**
 * The one interface between the guard and its detector layers. The guard hands each layer a
 * {@link GuardCore} when installing it; a layer imports nothing of the guard's state, so data flows
 * one way: detector → decision → record → sink.
 *
 * @module
 */
import type { ResolvedOptions } from "../config.ts";
import type { CallMarker, Frame } from "../context.ts";
import type { CallFacts } from "../report/record.ts";
import { captureStack, type StackBoundary, TRANSPORT_CAPTURE_LIMIT } from "./call_site.ts";
import type { Patcher } from "./patcher.ts";
import type { ProviderMatch, ProviderRule } from "./providers.ts";

/** What a layer may ask of the guard. Every member reads the live guard; none throws but `decide`. */
export interface GuardCore {
  /** Whether a guard is live: the first, cheap check of every hook. */
  active(): boolean;
  /** The live guard's options (`null` when none is live): what a worker's guard is started with. */
  options(): ResolvedOptions | null;
  /** The live guard's extra provider rules. */
  rules(): readonly ProviderRule[];
  /** Classifies a request URL with the live rules: `null` for ordinary traffic. */
  match(url: string): ProviderMatch | null;
  /** The current context frame. */
  frame(): Frame | undefined;
  /** Runs `fn` inside `frame`. */
  run<R>(frame: Frame, fn: () => R): R;
  /**
   * The fast path of an attested call that is neither traced nor judged by a policy: counts it and
   * returns the marker to run it under, or `null` when the call needs {@link GuardCore.decide}.
   */
  countAttested(frame: Frame | undefined): CallMarker | null;
  /** Whether the call site of a call (attested or not) is wanted by the live guard. */
  siteWanted(attested: boolean): boolean;
  /**
   * The decision for one AI call, made before anything is sent: records it, and in block mode
   * throws `AttestationError` (unless `canBlock` is false). A marker left in `frame` by an entry
   * hook above (its stack, model and facts) is used and marked recorded. Returns the marker under
   * which the call must run, so the layers below stay quiet.
   */
  decide(
    facts: CallFacts,
    frame: Frame | undefined,
    stack: () => string | undefined,
    canBlock?: boolean,
  ): CallMarker;
  /** Ends the marker's span when `promise` settles; the promise itself is untouched. */
  settleWhen(promise: Promise<unknown>, marker: CallMarker): void;
  /** Ends the marker's span now (idempotent); a failing span never reaches the host app. */
  settle(marker: CallMarker, error?: unknown): void;
}

/** A detector layer: one transport or one family of SDKs. */
export interface DetectorLayer {
  /** A short name for messages, e.g. `http2`. */
  readonly name: string;
  /**
   * Installs the layer's hooks through `patcher` (which restores them exactly) or returns its own
   * undo; does nothing where the runtime lacks the transport.
   */
  install(core: GuardCore, patcher: Patcher): void | (() => void);
}

/**
 * The decision for a request a transport is about to send, or `null` when a layer above already
 * made it (then the request runs as it is). `below` is the transport's own entry: frames above it
 * are left out of the call site. Throws `AttestationError` in block mode.
 */
export function decideRequest(
  core: GuardCore,
  frame: Frame | undefined,
  facts: () => CallFacts,
  below: StackBoundary,
): CallMarker | null {
  if (frame?.call?.recorded) return null;
  return core.countAttested(frame) ??
    core.decide(facts(), frame, () => captureStack(TRANSPORT_CAPTURE_LIMIT, below));
}

/** Runs `send` under `marker` unless the marker is the frame's own already. */
export function runMarked<R>(
  core: GuardCore,
  frame: Frame | undefined,
  marker: CallMarker,
  send: () => R,
): R {
  if (frame?.call === marker) return send();
  return core.run({ attestation: frame?.attestation ?? null, call: marker }, send);
}
