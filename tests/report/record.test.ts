/** The record (`src/report/record.ts`): what a line may carry once encoded, what records share. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { attest, disableGuard, enableGuard, type GuardRecord } from "../../mod.ts";
import {
  encodeJson,
  encodeLine,
  isoTime,
  makeDroppedRecord,
  makeRecord,
  MAX_FRAMES,
} from "../../src/report/record.ts";
import { installNetwork } from "../support/fake_network.ts";
import { aiCalls, PROC, sampleRecord } from "../support/records.ts";

test("records never carry control characters raw, and cap long values", () => {
  const record = sampleRecord('m\n{"injected":true}\u2028' + "x".repeat(2000));
  const line = encodeLine(record);
  assert.equal(line.indexOf("\n"), line.length - 1);
  assert.ok(!line.includes("\u2028"));
  assert.ok(JSON.parse(line).model.length <= 512);
});

const FACTS = {
  provider: "openai",
  operation: "chat",
  model: "gpt-4o-mini",
  target: "api.openai.com/v1/chat/completions",
  detector: "fetch" as const,
  server: "api.openai.com",
  port: 443,
};

const decision = (stack: string[]) => ({
  action: "reported" as const,
  mode: "report" as const,
  attestation: null,
  callSite: stack[0] ?? null,
  stack,
  violation: null,
});

test("records from one call site share one frozen stack: no copy per record", async () => {
  const net = installNetwork();
  const guard = enableGuard({ mode: "report", sinks: ["memory"], discover: false });
  try {
    // The first call's stack still holds the frames that started the test; the later ones resume
    // from the same await and give the same stack text.
    for (let i = 0; i < 4; i++) {
      await fetch("https://api.openai.com/v1/chat/completions", { method: "POST", body: "{}" });
    }
    const records = aiCalls(guard.records());
    assert.equal(records.length, 4);
    assert.ok(records[1]!.stack.length > 0, "the loop's line is an application frame");
    assert.ok(Object.isFrozen(records[1]!.stack));
    assert.equal(records[2]!.stack, records[1]!.stack, "a later record holds the same array");
    assert.equal(records[3]!.stack, records[1]!.stack);
  } finally {
    await disableGuard();
    net.restore();
  }
});

test("a stack that may still change is copied, capped to MAX_FRAMES and frozen", () => {
  const frames = Array.from({ length: MAX_FRAMES + 3 }, (_, i) => `src/app.ts:${i + 1}:1`);
  const first = makeRecord(FACTS, decision(frames), PROC);
  const second = makeRecord(FACTS, decision(frames), PROC);
  assert.equal(first.stack.length, MAX_FRAMES);
  assert.ok(Object.isFrozen(first.stack));
  assert.notEqual(second.stack, first.stack, "an array that is not frozen is not remembered");
  frames[0] = "src/changed.ts:1:1";
  assert.equal(first.stack[0], "src/app.ts:1:1", "a later change does not reach the record");
});

test("a frozen stack's frames are length-capped like every string of a record", () => {
  const long = `src/${"a".repeat(600)}.ts:1:1`;
  const stack = Object.freeze([long]) as string[];
  const record = makeRecord(FACTS, decision(stack), PROC);
  assert.equal(record.stack[0]!.length, 512);
  assert.equal(makeRecord(FACTS, decision(stack), PROC).stack, record.stack);
});

test("a record's fields keep the line's order, with and without a violation", () => {
  const order = [
    "v",
    "ts",
    "event",
    "attested",
    "action",
    "mode",
    "provider",
    "operation",
    "model",
    "target",
    "detector",
    "server",
    "port",
    "call_site",
    "stack",
    "runtime",
    "service",
    "pid",
    "attestation",
  ];
  const plain = makeRecord(FACTS, decision(["src/app.ts:1:1"]), PROC);
  assert.deepEqual(Object.keys(plain), [...order, "guard_version"]);
  const broken = makeRecord(FACTS, {
    ...decision(["src/app.ts:1:1"]),
    action: "violation",
    attestation: { id: "x", reason: null, owner: "team", ticket: null },
    violation: "expired",
  }, PROC);
  assert.deepEqual(Object.keys(broken), [...order, "violation", "guard_version"]);
  assert.deepEqual(Object.keys(broken.attestation!), ["id", "reason", "owner", "ticket"]);
  assert.equal(broken.violation, "expired");
  const attested = makeRecord(FACTS, {
    ...decision([]),
    action: "allowed",
    attestation: { id: "x", reason: "r" },
  }, PROC);
  assert.deepEqual(Object.keys(attested.attestation!), ["id", "reason"]);
});

test("a record's ts is its call's millisecond, also when calls of one millisecond share it", () => {
  const at = Date.UTC(2026, 11, 7, 15, 0, 0, 123);
  for (const ms of [at, at, at + 1, at, at + 86_400_000, at + 86_400_000]) {
    assert.equal(isoTime(ms), new Date(ms).toISOString());
    assert.equal(makeRecord(FACTS, decision([]), PROC, ms).ts, new Date(ms).toISOString());
  }
  const before = Date.now();
  const ts = Date.parse(makeRecord(FACTS, decision([]), PROC).ts);
  assert.ok(ts >= before && ts <= Date.now(), "by default, now");
});

test("a delivered record is frozen throughout: itself, its stack and its own copy of the attestation", async () => {
  const net = installNetwork();
  const seen: GuardRecord[] = [];
  const guard = enableGuard({
    mode: "report",
    sinks: ["memory"],
    discover: false,
    traceAttested: true,
    onRecord: (record) => void seen.push(record),
  });
  try {
    const options = { id: "nightly-summary", reason: "reviewed" };
    await attest(
      () => fetch("https://api.openai.com/v1/chat/completions", { method: "POST" }),
      options,
    )();
    await fetch("https://api.openai.com/v1/chat/completions", { method: "POST" });
    const [attested, unattested] = aiCalls(seen);
    for (const record of [attested!, unattested!, ...aiCalls(guard.records())]) {
      assert.ok(Object.isFrozen(record), "the record");
      assert.ok(Object.isFrozen(record.stack), "its stack");
      assert.throws(() => {
        (record as { attested: boolean }).attested = !record.attested;
      }, TypeError);
    }
    assert.deepEqual(attested!.attestation, { id: "nightly-summary", reason: "reviewed" });
    assert.ok(Object.isFrozen(attested!.attestation), "the attestation");
    assert.ok(!Object.isFrozen(options), "the app's own options stay as they were");
    assert.equal(unattested!.attestation, null);
  } finally {
    await disableGuard();
    net.restore();
  }
});

test("a record's line is JSON.stringify's, its frozen stack encoded from a copy", () => {
  const odd = 'src/a "quoted"\\ \u0001 \ud800 é \u{1F600}.ts:1:2';
  const records = [
    makeRecord(FACTS, decision(Object.freeze(["src/app.ts:1:1", odd]) as string[]), PROC),
    makeRecord(FACTS, {
      ...decision(["src/app.ts:3:4"]),
      action: "violation",
      attestation: { id: "x\ny", reason: null, owner: "team", ticket: null },
      violation: "expired",
    }, PROC),
    makeRecord({ ...FACTS, model: "m\u2028\u2029" }, decision([]), PROC),
    makeDroppedRecord(3, PROC),
  ];
  for (const record of records) {
    const json = encodeJson(record);
    assert.equal(
      json,
      JSON.stringify(record).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029"),
    );
    assert.deepEqual(JSON.parse(json), JSON.parse(JSON.stringify(record)));
  }
  assert.ok(Object.isFrozen(records[0]!.stack), "the record's own stack stays as it was");
});
