/** The action for every combination of mode, attestation, policy violation and whether the call can be stopped. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { actionFor, type LiveMode } from "../../src/guard/action.ts";
import type { RecordAction } from "../../src/report/record.ts";

// mode, attested, violation, canBlock → action: every one of the 24 combinations, written out.
const TABLE: ReadonlyArray<readonly [LiveMode, boolean, boolean, boolean, RecordAction]> = [
  ["warn", false, false, false, "warned"],
  ["warn", false, false, true, "warned"],
  ["warn", false, true, false, "violation"],
  ["warn", false, true, true, "violation"],
  ["warn", true, false, false, "allowed"],
  ["warn", true, false, true, "allowed"],
  ["warn", true, true, false, "violation"],
  ["warn", true, true, true, "violation"],
  ["report", false, false, false, "reported"],
  ["report", false, false, true, "reported"],
  ["report", false, true, false, "violation"],
  ["report", false, true, true, "violation"],
  ["report", true, false, false, "allowed"],
  ["report", true, false, true, "allowed"],
  ["report", true, true, false, "violation"],
  ["report", true, true, true, "violation"],
  // A call that can no longer be stopped is reported, never blocked.
  ["block", false, false, false, "reported"],
  ["block", false, false, true, "blocked"],
  ["block", false, true, false, "violation"],
  ["block", false, true, true, "blocked"],
  ["block", true, false, false, "allowed"],
  ["block", true, false, true, "allowed"],
  ["block", true, true, false, "violation"],
  ["block", true, true, true, "blocked"],
];

test("actionFor() gives the contract's action for all 24 combinations", () => {
  const seen = new Set(TABLE.map((row) => row.slice(0, 4).join()));
  assert.equal(seen.size, 3 * 2 * 2 * 2, "the table holds every combination once");
  for (const [mode, attested, violation, canBlock, expected] of TABLE) {
    assert.equal(
      actionFor(mode, attested, violation, canBlock),
      expected,
      `mode ${mode}, attested ${attested}, violation ${violation}, canBlock ${canBlock}`,
    );
  }
});
