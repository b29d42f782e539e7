// @runtimes deno bun node
/** The record format's two numbers, each stated once: its version and its stack's length. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeLine,
  encodeLine,
  makeDroppedRecord,
  makeRecord,
  MAX_FRAMES,
  RECORD_V,
  vouchRecord,
} from "../../src/report/record.ts";
import { RECORD_V as REGISTRY_RECORD_V } from "../../src/registry.ts";
import { applicationFrames } from "../../src/detect/call_site.ts";

const proc = { runtime: "node", service: null, pid: 1 };
const call = {
  provider: "openai",
  operation: "chat",
  model: null,
  target: "t",
  detector: "fetch" as const,
  server: null,
  port: null,
};

test("records carry RECORD_V, the version the registry compares copies by", () => {
  assert.equal(REGISTRY_RECORD_V, RECORD_V);
  const decision = { action: "reported" as const, mode: "report" as const, attestation: null };
  assert.equal(makeRecord(call, { ...decision, callSite: null, stack: [] }, proc).v, RECORD_V);
  assert.equal(makeDroppedRecord(2, proc).v, RECORD_V);
});

test("a record's stack holds at most MAX_FRAMES frames, and a longer one is not vouched for", () => {
  const frames = Array.from({ length: MAX_FRAMES + 4 }, (_, i) => `src/app.ts:${i + 1}:1`);
  const decision = { action: "reported" as const, mode: "report" as const, attestation: null };
  const record = makeRecord(call, { ...decision, callSite: frames[0]!, stack: frames }, proc);
  assert.deepEqual(record.stack, frames.slice(0, MAX_FRAMES));
  assert.ok(vouchRecord(record));
  assert.equal(vouchRecord({ ...record, stack: frames.slice(0, MAX_FRAMES + 1) }), null);
  assert.deepEqual(decodeLine(encodeLine(record).trimEnd()), record);
  assert.equal(decodeLine(JSON.stringify({ ...record, v: RECORD_V + 1 })), null);
  // The call site finder hands a record no more than it holds.
  const text = ["Error", ...frames.map((f, i) => `    at f${i} (/work/app/${f})`)].join("\n");
  assert.equal(applicationFrames(text, "/work/app").stack.length, MAX_FRAMES);
});
