/**
 * The three kinds of SDK hook, shared by every SDK family:
 * - a recording entry decides the call itself (it knows provider, target, model and server);
 * - a site entry takes the call site (and what else it knows) where the application's frame is
 *   still on the synchronous stack, for the recording hook or the transport below to use;
 * - a scope entry does the same for a framework run that may make several AI calls (an agent run):
 *   each call below is still decided on its own.
 *
 * @module
 */
import type { CallMarker } from "../../context.ts";
import type { CallFacts } from "../../report/record.ts";
import { captureStack, ENTRY_CAPTURE_LIMIT } from "../call_site.ts";
import { type GuardCore, runMarked } from "../layer.ts";

// deno-lint-ignore no-explicit-any
export type Fn = (this: any, ...args: any[]) => any;
/** Describes one call from the SDK object and the method's arguments. */
export type Describe = (self: Record<string, unknown>, args: unknown[]) => CallFacts;
/** What a site entry knows before the request exists. */
export type EntryFacts = NonNullable<CallMarker["entryFacts"]>;

function isAsyncFunction(fn: Fn): boolean {
  return fn.constructor?.name === "AsyncFunction";
}

/** Only native promises: awaiting an SDK's own promise type may start parsing the body. */
export function isNativePromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise && value.constructor === Promise;
}

/** The model named in an SDK method's first argument (`{ model }`), if any. */
export function modelArg(args: readonly unknown[], key = "model"): string | null {
  const value = (args[0] as Record<string, unknown> | null | undefined)?.[key];
  return typeof value === "string" ? value : null;
}

/**
 * A recording entry: decides the call before the SDK does anything, then runs the SDK under the
 * marker so the layers below stay quiet. In block mode a method that returns a promise rejects
 * (`returnsPromise`, by default when it is an async function), any other throws.
 */
export function recordingHook(
  core: GuardCore,
  original: Fn,
  describe: Describe,
  settleOnResult: boolean,
  returnsPromise: boolean = isAsyncFunction(original),
): Fn {
  const async = returnsPromise;
  return function recording(this: Record<string, unknown>, ...args: unknown[]) {
    if (!core.active()) return original.apply(this, args);
    const frame = core.frame();
    if (frame?.call?.recorded) return original.apply(this, args); // an inner hop of one SDK call
    let marker: CallMarker;
    try {
      // An attested, untraced call is only counted; anything else is described and decided, with
      // its stack taken here at the entry, where the application frame is a few frames up.
      marker = core.countAttested(frame) ??
        core.decide(
          describe(this, args),
          frame,
          () => captureStack(ENTRY_CAPTURE_LIMIT, recording),
        );
    } catch (error) {
      if (async) return Promise.reject(error);
      throw error;
    }
    const result = runMarked(core, frame, marker, () => original.apply(this, args));
    if (settleOnResult && isNativePromise(result)) core.settleWhen(result, marker);
    return result;
  };
}

/** What a site entry may know of the call before the request exists. */
export type SiteFacts = (
  self: Record<string, unknown>,
  args: unknown[],
) => (EntryFacts & { model?: string | null }) | null;

/**
 * A site entry for methods whose request reaches the recording hook or the transport only later
 * (after an await): takes the call site, the model and the entry facts now. With `ensure`, a call that no
 * layer below decided by the time the method's promise settles (a transport no hook sees) is
 * recorded then, from the entry facts: late, so it cannot be blocked, but not missed.
 */
export function siteHook(core: GuardCore, original: Fn, facts?: SiteFacts, ensure = false): Fn {
  return function entry(this: Record<string, unknown>, ...args: unknown[]) {
    if (!core.active()) return original.apply(this, args);
    const frame = core.frame();
    const outer = frame?.call;
    // Inside another call's entry, or an attested untraced call (it needs no site): as it is.
    if (
      (outer && !outer.scope) || !core.siteWanted(frame?.attestation != null)
    ) return original.apply(this, args);
    const known = facts?.(this, args) ?? null;
    const marker: CallMarker = {
      recorded: false,
      // Inside a framework run, the run's entry is nearer the application than this one.
      stack: outer?.stack ?? captureStack(ENTRY_CAPTURE_LIMIT, entry),
      settle: null,
      model: known?.model ?? modelArg(args),
      entryFacts: known &&
        { provider: known.provider, operation: known.operation, target: known.target },
    };
    const inner = { attestation: frame?.attestation ?? null, call: marker };
    const result = core.run(inner, () => original.apply(this, args));
    if (ensure && marker.entryFacts && isNativePromise(result)) {
      const entryFacts = marker.entryFacts;
      const late = () => {
        if (marker.recorded || !core.active()) return;
        try {
          core.settle(core.decide(
            {
              ...entryFacts,
              model: null,
              detector: "sdk",
              server: null,
              port: null,
            },
            inner,
            () => undefined, // the marker's own stack, taken at entry
            false,
          ));
        } catch {
          // never into the host app's promise chain
        }
      };
      result.then(late, late);
    }
    return result;
  };
}

/**
 * A scope entry for framework runs (LangChain, agents): the call site of every AI call made inside
 * is this entry's caller; each call is still decided, and recorded, on its own.
 */
export function scopeHook(core: GuardCore, original: Fn, applies?: (self: unknown) => boolean): Fn {
  return function scope(this: unknown, ...args: unknown[]) {
    if (!core.active() || (applies && !applies(this))) return original.apply(this, args);
    const frame = core.frame();
    if (frame?.call || !core.siteWanted(frame?.attestation != null)) {
      return original.apply(this, args);
    }
    const marker: CallMarker = {
      recorded: false,
      scope: true,
      stack: captureStack(ENTRY_CAPTURE_LIMIT, scope),
      settle: null,
    };
    return core.run(
      { attestation: frame?.attestation ?? null, call: marker },
      () => original.apply(this, args),
    );
  };
}

/** Ends the span of the call in progress when the SDK's transport returns the response. */
export function transportHook(core: GuardCore, original: Fn): Fn {
  return function (this: unknown, ...args: unknown[]) {
    const result = original.apply(this, args);
    const marker = core.frame()?.call;
    if (marker && isNativePromise(result)) core.settleWhen(result, marker);
    return result;
  };
}
