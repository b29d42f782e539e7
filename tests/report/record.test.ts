/** The record line (`src/report/record.ts`): what a record may carry once encoded. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeLine } from "../../src/report/record.ts";
import { sampleRecord } from "../support/records.ts";

test("records never carry control characters raw, and cap long values", () => {
  const record = sampleRecord('m\n{"injected":true}\u2028' + "x".repeat(2000));
  const line = encodeLine(record);
  assert.equal(line.indexOf("\n"), line.length - 1);
  assert.ok(!line.includes("\u2028"));
  assert.ok(JSON.parse(line).model.length <= 512);
});
