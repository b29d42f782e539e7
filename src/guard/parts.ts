/**
 * The parts of the guard that only an AI SDK or a record needs: the SDK layer (patching client
 * classes, scoping framework entries) and the record output (the sink chain: OpenTelemetry, the
 * daemon client, the file queue). `guard.ts`, which the public API is built on, provides them by
 * static import. The preload does not import them: they are loaded synchronously the first time
 * the app loads an SDK or the guard writes a record, so a start pays for neither (on Node and Bun;
 * see {@link loadGuardParts} for Deno).
 *
 * @module
 */
import type { patchClients } from "../detect/sdk.ts";
import type { scopeHook } from "../detect/sdk/hooks.ts";
import type { createOutput } from "../report/chain.ts";
import type { RecordOutput } from "../report/sink.ts";
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

/** The SDK layer, loaded now if no one provided it. Throws where it cannot be loaded. */
export function sdkParts(): SdkParts {
  if (sdk === null) {
    const { patchClients } = requireOwnModule<typeof import("../detect/sdk.ts")>(
      import.meta.url,
      "../detect/sdk",
    );
    const { scopeHook } = requireOwnModule<typeof import("../detect/sdk/hooks.ts")>(
      import.meta.url,
      "../detect/sdk/hooks",
    );
    sdk = { patchClients, scopeHook };
  }
  return sdk;
}

/**
 * Loads both parts now. Deno's preload does, before it registers its resolve hook: with one
 * registered, Deno's `require()` of an ES module fails to resolve the module's own imports.
 *
 * @example
 * ```ts
 * import { loadGuardParts } from "./parts.ts";
 * loadGuardParts();
 * ```
 */
export function loadGuardParts(): void {
  sdkParts();
  outputParts();
}

function outputParts(): OutputParts {
  output ??= requireOwnModule<typeof import("../report/chain.ts")>(
    import.meta.url,
    "../report/chain",
  );
  return output;
}

/**
 * An output made with its first record: until then there is nothing to flush, close or write on
 * exit (a guard in warn mode, or one that sees no AI call, never makes it). Should the output's
 * modules fail to load, each record is reported lost through `onFailure`, never thrown.
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
  return {
    emit(record) {
      if (made === null) {
        try {
          made = make(outputParts().createOutput);
        } catch (error) {
          onFailure(error);
          return null;
        }
      }
      return made.emit(record);
    },
    flush: () => made?.flush() ?? Promise.resolve(),
    close: () => made?.close() ?? Promise.resolve(),
    flushSync: () => made?.flushSync?.(),
  };
}
