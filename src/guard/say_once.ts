/**
 * The guard's one "warn once": a call site's warning per guard, a failed sink's per guard, a
 * hand-off between copies of the package per process. Each caller keeps its own set of what has
 * been said; the rule (first time only, a broken logger never reaches the app) is written here.
 *
 * @module
 */

/**
 * Runs `say` the first time `key` is seen in `said`, and never lets a broken logger reach the
 * host app's call.
 *
 * @example
 * ```ts
 * import { sayOnce } from "./say_once.ts";
 *
 * const said = new Set<string>();
 * sayOnce(said, "sink\0file", () => console.warn("the file sink failed"));
 * sayOnce(said, "sink\0file", () => console.warn("never printed"));
 * ```
 */
export function sayOnce(said: Set<string>, key: string, say: () => void): void {
  if (said.has(key)) return;
  said.add(key);
  try {
    say();
  } catch {
    // A broken logger must not break the host app's call.
  }
}
