/**
 * The parts of the guard that only an AI SDK or a record needs: the SDK layer (patching client
 * classes, scoping framework entries) and the record output (the sink chain: OpenTelemetry, the
 * daemon client, the file queue). `guard.ts`, which the public API is built on, provides them by
 * static import. The preload does not import them: they are loaded synchronously the first time
 * the app loads an SDK or the guard writes a record, so a start pays for neither. Where that load
 * fails (Deno with a resolve hook of the app's registered, Node before `require()` of ES modules),
 * they are imported instead: SDK classes are patched, and records written, once that import ends.
 *
 * @module
 */
import type { patchClients } from "../detect/sdk.ts";
import type { scopeHook } from "../detect/sdk/hooks.ts";
import type { createOutput } from "../report/chain.ts";
import type { AnyRecord } from "../report/record.ts";
import type { RecordOutput, Settle } from "../report/sink.ts";
import { requireOwnModule } from "../runtime.ts";

/** The SDK layer's entry points. */
export interface SdkParts {
  patchClients: typeof patchClients;
  scopeHook: typeof scopeHook;
}

/** The record output's entry point. */
export interface OutputParts {
  createOutput: typeof createOutput;
}

let sdk: SdkParts | null = null;
let output: OutputParts | null = null;

/**
 * Hands over the parts as loaded modules (the public API's static imports), so nothing has to be
 * loaded on demand, also where the runtime cannot (workerd, a bundle).
 *
 * @example
 * ```ts
 * import { patchClients } from "../detect/sdk.ts";
 * import { scopeHook } from "../detect/sdk/hooks.ts";
 * import { createOutput } from "../report/chain.ts";
 * import { provideGuardParts } from "./parts.ts";
 *
 * provideGuardParts({ patchClients, scopeHook }, { createOutput });
 * ```
 */
export function provideGuardParts(sdkParts: SdkParts, outputParts: OutputParts): void {
  sdk ??= sdkParts;
  output ??= outputParts;
}

/**
 * A part loaded synchronously when it can be, else imported: `now()` returns it or `null` (its
 * import then under way), `later()` resolves with it.
 */
function onDemand<T>(
  current: () => T | null,
  set: (part: T) => T,
  loadSync: () => T,
  load: () => Promise<T>,
): { now(): T | null; later(): Promise<T> } {
  let loading: Promise<T> | null = null;
  const later = () => {
    const ready = current();
    if (ready) return Promise.resolve(ready);
    return loading ??= load().then(set);
  };
  return {
    now() {
      const ready = current();
      if (ready || loading) return ready;
      try {
        return set(loadSync());
      } catch {
        later().catch(() => {}); // said by whoever waits for it
        return null;
      }
    },
    later,
  };
}

const sdkOnDemand = onDemand<SdkParts>(
  () => sdk,
  (parts) => (sdk ??= parts),
  () => ({
    patchClients: requireOwnModule<typeof import("../detect/sdk.ts")>("src/detect/sdk")
      .patchClients,
    scopeHook: requireOwnModule<typeof import("../detect/sdk/hooks.ts")>("src/detect/sdk/hooks")
      .scopeHook,
  }),
  async () => {
    const [{ patchClients }, { scopeHook }] = await Promise.all([
      import("../detect/sdk.ts"),
      import("../detect/sdk/hooks.ts"),
    ]);
    return { patchClients, scopeHook };
  },
);

const outputOnDemand = onDemand<OutputParts>(
  () => output,
  (parts) => (output ??= parts),
  () => requireOwnModule<typeof import("../report/chain.ts")>("src/report/chain"),
  () => import("../report/chain.ts"),
);

/**
 * The SDK layer: now (loaded on the spot if need be), or `null` while it is being imported.
 *
 * @example
 * ```ts
 * import { sdkParts, sdkPartsLater } from "./parts.ts";
 * const parts = sdkParts();
 * if (!parts) sdkPartsLater().then((loaded) => console.log(typeof loaded.patchClients));
 * ```
 */
export function sdkParts(): SdkParts | null {
  return sdkOnDemand.now();
}

/** The SDK layer once loaded. */
export function sdkPartsLater(): Promise<SdkParts> {
  return sdkOnDemand.later();
}

/**
 * An output made with its first record: until then there is nothing to flush, close or write on
 * exit (a guard in warn mode, or one that sees no AI call, never makes it). Records that come
 * while its modules are being imported wait in order and go down once they are in; should the
 * import fail, each record is reported lost through `onFailure`, never thrown.
 *
 * @example
 * ```ts
 * import { deferredOutput } from "./parts.ts";
 *
 * const output = deferredOutput(
 *   (createOutput) => createOutput(options, context),
 *   (error) => console.warn(error),
 * );
 * ```
 */
export function deferredOutput(
  make: (create: OutputParts["createOutput"]) => RecordOutput,
  onFailure: (error: unknown) => void,
): RecordOutput {
  let made: RecordOutput | null = null;
  const waiting: AnyRecord[] = [];
  let arrival: Promise<void> | null = null;
  const arrive = () =>
    arrival ??= outputOnDemand.later().then(
      (parts) => {
        made ??= make(parts.createOutput);
        for (const record of waiting.splice(0)) made.emit(record);
      },
      (error) => {
        waiting.length = 0;
        onFailure(error);
      },
    );
  return {
    emit(record): Settle | null {
      if (made === null) {
        const parts = waiting.length > 0 ? null : outputOnDemand.now();
        if (parts === null) {
          waiting.push(record);
          arrive();
          return null;
        }
        made = make(parts.createOutput);
      }
      return made.emit(record);
    },
    flush: async () => {
      if (arrival) await arrival;
      await made?.flush();
    },
    close: async () => {
      if (arrival) await arrival;
      await made?.close();
    },
    flushSync: () => made?.flushSync?.(),
  };
}
