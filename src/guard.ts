/**
 * enableGuard()/disableGuard()/flush(): the process-wide switch. Each call is served by the copy of
 * this package that owns the live guard (`guard/handoff.ts`), which is this copy's own guard
 * (`guard/local.ts`) unless another copy enabled one first. Detector layers report each AI call to
 * the decision (`guard/decision.ts`); data flows detector → decision → record → sink.
 *
 * @module
 */
import type { GuardOptions } from "./config.ts";
import { patchClients } from "./detect/sdk.ts";
import { scopeHook } from "./detect/sdk/hooks.ts";
import { createOutput } from "./report/chain.ts";
import { owner } from "./guard/handoff.ts";
import { type Guard, LOCAL_OWNER } from "./guard/local.ts";
import { provideGuardParts } from "./guard/parts.ts";

export type { GuardStats } from "./guard/decision.ts";
export type { Guard } from "./guard/local.ts";

// The API loads the SDK layer and the record output with itself, so they work also where nothing
// can be loaded on demand (workerd, bundles); the preload leaves them to `guard/parts.ts`.
provideGuardParts({ patchClients, scopeHook }, { createOutput });

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
  return owner(LOCAL_OWNER).enable(options) as Guard;
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
  return owner(LOCAL_OWNER).disable();
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
  return owner(LOCAL_OWNER).flush();
}
