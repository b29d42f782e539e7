/**
 * Side-effect entry: enables the guard with the options from `AIGUARD_*` variables and
 * `aiguard.jsonc`, before any application module builds an AI client. With `discover` (default
 * `true`; `AIGUARD_DISCOVER=false` turns it off) every supported AI SDK the app loads is patched as
 * it loads, through resolve-only module hooks that change how no module loads (see
 * `src/preload/entry_hooks.ts`): nothing the app does not import is imported.
 *
 * - Deno: `deno run --preload jsr:@aiguard/attest/auto main.ts`
 * - Bun: `bun --preload @aiguard/attest/auto main.ts`, or `preload` in `bunfig.toml`
 * - Node: `node --import @aiguard/attest/auto main.js`, or `--require` (Node ≥ 22.12) under a
 *   runner that starts the app with `Module.runMain()` (ts-node), which any `--import` breaks
 *
 * @example Import it first thing in an entry module
 * ```ts
 * import "@aiguard/attest/auto";
 * ```
 *
 * @module
 */
// The guard without the public API module (`src/guard.ts`), which also loads the SDK layer and
// the record output: here they load with the first SDK or record (see `src/guard/parts.ts`).
import { owner } from "./src/guard/handoff.ts";
import { type Guard, LOCAL_OWNER } from "./src/guard/local.ts";
import { FUNCTION_PACKAGES } from "./src/catalog.ts";
import { optionsFromEnv } from "./src/config.ts";
import { discoverablePackages, discoverClients } from "./src/detect/discover.ts";
import { createBuiltinWatch, watchGetBuiltinModule } from "./src/preload/builtin_watch.ts";
import { installEntryHooks } from "./src/preload/entry_hooks.ts";
import { registry } from "./src/registry.ts";

const shared = registry();
const loaded: unknown[] = [];
const builtins = createBuiltinWatch();
// `AIGUARD_MODE=off` installs no hook (Node's resolve hook alone slows every later resolution): a
// guard enabled in code after all finds the SDKs by importing them, as without hooks.
let off = false;
try {
  off = optionsFromEnv().mode === "off";
} catch {
  // an invalid variable: enabling the guard below says which
}
// Packages of AI functions only (`ai`) have no classes to patch: their entries' AI functions are
// re-exported wrapped as they load.
const hooks = off ? "none" : installEntryHooks(
  [...discoverablePackages(), ...FUNCTION_PACKAGES],
  (exports) => {
    loaded.push(exports);
    shared.owner?.patch?.([exports]);
  },
  builtins.reached,
);
// The hooks see every import and require() of a built-in (Node's and Deno's resolve hook; Bun's
// plugin and Module.prototype.require); with getBuiltinModule() watched too, the layers patch a
// built-in only once the app reaches it (see src/detect/builtin_reach.ts).
if (hooks !== "none" && watchGetBuiltinModule(builtins)) shared.builtins ??= builtins;
// A guard enabled (again) later patches what was loaded so far; where the runtime has no module
// hooks, discovery imports the SDKs that resolve (the cost the README states).
shared.discover ??= hooks === "none" ? () => discoverClients() : () => Promise.resolve([...loaded]);
// No top-level await, so `node --require` can load this module too (Node ≥ 22.12): with module
// hooks `ready` is settled already; without them (Node < 22.15) the SDKs discovery imports are
// patched as soon as they have loaded, and calls made before that reach the transport layers.
shared.preloading = true;
try {
  (owner(LOCAL_OWNER).enable() as Guard).ready.catch((error: unknown) =>
    console.warn("aiguard: SDK discovery failed:", error)
  );
} finally {
  shared.preloading = false;
}
