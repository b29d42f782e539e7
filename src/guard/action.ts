/**
 * What the guard does with one AI call, as a pure function of the four facts that decide it. The
 * record carries the answer; block mode throws it; warn mode logs it.
 *
 * @module
 */
import type { GuardMode, RecordAction } from "../report/record.ts";

/** A mode in which a guard is live (`off` has no guard, so no decision). */
export type LiveMode = Exclude<GuardMode, "off">;

/**
 * The action for one AI call. `attested`: made inside an `attest()` scope; `violation`: the
 * attestation policy rejects it (see `policy.ts`); `canBlock`: the caller can still stop the call
 * (a transport whose request is already on its way cannot). A violation wins over the attestation
 * it breaks; only block mode, where the call can be stopped, blocks.
 *
 * @example
 * ```ts
 * import { actionFor } from "./action.ts";
 *
 * actionFor("block", false, false, true); // "blocked"
 * actionFor("block", false, false, false); // "reported": the call could not be stopped
 * actionFor("warn", true, true, true); // "violation"
 * ```
 */
export function actionFor(
  mode: LiveMode,
  attested: boolean,
  violation: boolean,
  canBlock: boolean,
): RecordAction {
  const blocks = mode === "block" && canBlock;
  if (violation) return blocks ? "blocked" : "violation";
  if (attested) return "allowed";
  if (blocks) return "blocked";
  return mode === "warn" ? "warned" : "reported";
}
