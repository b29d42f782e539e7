/**
 * Side-effect entry: enables the guard with the options from `AIGUARD_*` variables and
 * `aiguard.jsonc`, before any application module builds an AI client.
 *
 * - Deno: `deno run --preload jsr:@aiguard/attest/auto main.ts`
 * - Bun: `bun --preload @aiguard/attest/auto main.ts`, or `preload` in `bunfig.toml`
 * - Node: `node --import @aiguard/attest/auto main.js`
 *
 * @example
 * ```ts
 * import { guard } from "@aiguard/attest/auto";
 *
 * console.log(guard.mode);
 * ```
 *
 * @module
 */
import { enableGuard, type Guard } from "./src/guard.ts";

/** The guard this entry enabled. */
export const guard: Guard = enableGuard();
// Top-level await: the preloaded module finishes only once installed SDKs are patched.
await guard.ready;
