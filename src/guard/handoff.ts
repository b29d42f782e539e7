/**
 * The hand-off between copies of this package loaded in one process: which copy's guard serves a
 * call to `enableGuard()`, `disableGuard()` or `flush()`, by the version rule written down in
 * `registry.ts`.
 *
 * @module
 */
import { compareVersions, type GuardOwner, RECORD_V, registry } from "../registry.ts";
import { sayOnce } from "./say_once.ts";

/** Says a message once per process, whichever copy of the package says it. */
function sayOncePerProcess(message: string): void {
  sayOnce(registry().said, message, () => console.warn(message));
}

/**
 * The copy whose guard serves this call: another live copy's, or `local` (this copy's). A copy
 * with another record format is torn down when `local` is newer, else left in charge; either way
 * it is said once per process.
 *
 * @example
 * ```ts
 * import { owner } from "./handoff.ts";
 * import { LOCAL_OWNER } from "./local.ts";
 *
 * await owner(LOCAL_OWNER).flush();
 * ```
 */
export function owner(local: GuardOwner): GuardOwner {
  const shared = registry();
  const other = shared.owner;
  if (other === null || other === local) return local;
  if (other.v === RECORD_V) return other;
  if (compareVersions(local.version, other.version) > 0) {
    sayOncePerProcess(
      `aiguard: ${local.version} takes over the guard of ${other.version} loaded in the same ` +
        `process (record format v${RECORD_V} vs v${other.v}).`,
    );
    other.teardown();
    return local;
  }
  sayOncePerProcess(
    `aiguard: ${local.version} leaves the guard to the newer ${other.version} loaded in the same process.`,
  );
  return other;
}
