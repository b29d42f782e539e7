/**
 * Side-effect entry: enables the guard with the options from `AIGUARD_*` variables and
 * `aiguard.jsonc`, before any application module builds an AI client, and lets it discover the AI
 * SDKs installed in the app (`discover`, default `true`).
 *
 * - Deno: `deno run --preload jsr:@aiguard/attest/auto main.ts`
 * - Bun: `bun --preload @aiguard/attest/auto main.ts`, or `preload` in `bunfig.toml`
 * - Node: `node --import @aiguard/attest/auto main.js`
 *
 * @example Import it first thing in an entry module
 * ```ts
 * import "@aiguard/attest/auto";
 * ```
 *
 * @module
 */
import { enableGuard } from "./src/guard.ts";
import { discoverClients } from "./src/detect/discover.ts";
import { registry } from "./src/registry.ts";

registry().discover ??= () => discoverClients();
// Top-level await: the preloaded module finishes only once installed SDKs are patched.
await enableGuard().ready;
