/** What a live guard keeps per call is bounded: counts, never timings. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { disableGuard, enableGuard } from "../../mod.ts";
import { installNetwork } from "../support/fake_network.ts";
import { aiCalls } from "../support/records.ts";

test("1,200 unattested calls: the guard's memory ring keeps the newest 1,000, one stack array a site", async () => {
  const net = installNetwork();
  const guard = enableGuard({ mode: "report", sinks: ["memory"], discover: false });
  try {
    for (let i = 0; i < 1200; i++) {
      await fetch("https://api.openai.com/v1/chat/completions", {
        method: "POST",
        body: JSON.stringify({ model: `m-${i}` }),
      });
    }
    const records = aiCalls(guard.records());
    assert.equal(guard.stats().calls, 1200);
    assert.equal(records.length, 1000);
    assert.equal(records[0]!.model, "m-200", "the oldest 200 were let go");
    assert.equal(records.at(-1)!.model, "m-1199");
    assert.equal(new Set(records.map((r) => r.stack)).size, 1, "one call site, one stack array");
  } finally {
    await disableGuard();
    net.restore();
  }
});

test("the memory ring gives back each record as it was given: keys in order, values, frozen or not", async () => {
  const { MemoryRing } = await import("../../src/storage/memory.ts");
  const ring = new MemoryRing(3);
  const stack = Object.freeze(["src/a.ts:1:1"]);
  const call = (model: string, extra: object = {}) =>
    Object.freeze({ v: 1, ts: "t", event: "ai_call", model, stack, ...extra });
  const given = [
    call("m-0"),
    { v: 1, event: "dropped", count: 2 }, // not frozen: memory storage's parsed lines
    call("m-2", { violation: "model" }),
    JSON.parse('{"v":1,"__proto__":{"x":1}}'), // an own __proto__ key: kept as the object
    call("m-4", { attestation: Object.freeze({ id: "a", reason: null }) }),
  ];
  for (const record of given) ring.push(record as never);
  const kept = ring.toArray();
  assert.equal(kept.length, 3, "the newest three");
  kept.forEach((record, i) => {
    const original = given[i + 2]!;
    assert.deepEqual(Object.keys(record), Object.keys(original));
    assert.deepEqual(record, original);
    assert.equal(Object.isFrozen(record), Object.isFrozen(original));
    assert.equal(Object.getPrototypeOf(record), Object.getPrototypeOf(original));
  });
  assert.equal((kept[0] as unknown as { stack: unknown }).stack, stack, "values kept, not copied");
});

test("the memory ring tells apart records that only begin or end like the last one's shape", async () => {
  const { MemoryRing } = await import("../../src/storage/memory.ts");
  const ring = new MemoryRing(8);
  const inherited = Object.create({ extra: "inherited" }) as Record<string, unknown>;
  Object.assign(inherited, { v: 1, event: "ai_call", model: "m-4" });
  const given: Record<string, unknown>[] = [
    { v: 1, event: "ai_call", model: "m-0" },
    { v: 1, event: "ai_call", model: "m-1" }, // the last shape again
    { v: 1, event: "ai_call", model: "m-2", violation: "model" }, // the last shape, then more
    { v: 1, event: "ai_call" }, // fewer keys than the last shape
    inherited, // the last shape's keys, then an inherited one: kept whole
    { v: 1, model: "m-5", event: "ai_call" }, // the same keys in another order
    { v: 1, event: "ai_call", model: "m-6" },
  ];
  for (const record of given) ring.push(record as never);
  const kept = ring.toArray() as unknown as Record<string, unknown>[];
  assert.equal(kept.length, given.length);
  kept.forEach((record, i) => {
    assert.deepEqual(Object.keys(record), Object.keys(given[i]!), `record ${i}'s keys`);
    assert.deepEqual({ ...record }, { ...given[i]! }, `record ${i}'s values`);
  });
  assert.equal(kept[4], inherited, "a record with inherited keys is kept as the object");
});
