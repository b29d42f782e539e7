/**
 * When a layer patches a built-in module (`node:http`, `node:http2`, `node:net`, …): loading one
 * costs milliseconds (bench/NOTES.md), so under the preload, which sees every way the app
 * reaches a built-in, a layer patches it right before the app first gets it, and an app that never
 * loads `node:http2` never pays for it. Without the preload (a guard enabled in code) every
 * built-in the runtime has is patched at once.
 *
 * @module
 */
import { registry } from "../registry.ts";
import { builtinModule } from "../runtime.ts";

/**
 * Runs `patch` with the module object of the built-in `name` once the app can reach it (now, or
 * before the app first gets it); nothing where the runtime lacks it. Returns a function that
 * cancels a patch still waiting (a layer's undo).
 *
 * @example In a layer's install
 * ```ts
 * import { whenReached } from "./builtin_reach.ts";
 * const cancel = whenReached("node:http2", (h2) => console.log(typeof h2.connect));
 * cancel();
 * ```
 */
export function whenReached(
  name: string,
  patch: (mod: Record<string, unknown>) => void,
): () => void {
  const run = () => {
    const mod = builtinModule<Record<string, unknown>>(name);
    if (mod) patch(mod);
  };
  const watch = registry().builtins;
  if (watch === undefined) {
    run();
    return () => {};
  }
  return watch.watch(name, run);
}

/**
 * Whether the guard is being installed by the preload, before any of the app's code (on every
 * runtime with a preload, also Bun's, whose built-ins are patched at start): then no function the
 * app holds predates the guard's, and a layer may patch a costly global on first use, or skip what
 * only catches references taken before it. Read it in `install`, not later.
 *
 * @example
 * ```ts
 * import { startedBeforeApp } from "./builtin_reach.ts";
 * if (!startedBeforeApp()) console.log("enabled in code: patch everything now");
 * ```
 */
export function startedBeforeApp(): boolean {
  return registry().preloading === true;
}
