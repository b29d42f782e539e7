/** The record queue (`src/report/queue.ts`) on a storage the test controls: batching, order, drops. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DRAIN_DELAY_MS, RecordQueue } from "../../src/report/queue.ts";
import type { LineBatch } from "../../src/report/line_batch.ts";
import { PROC, sampleRecord } from "../support/records.ts";

test("the queue writes a burst of 256 records at once and waits DRAIN_DELAY_MS for a few", async () => {
  const appends: number[] = [];
  const queue = new RecordQueue({
    name: "counting",
    append: (lines) => {
      appends.push(lines.split("\n").filter(Boolean).length);
      return Promise.resolve();
    },
  }, { proc: PROC, onDrop: () => {}, onFailure: () => {} });
  const record = (i: number) => sampleRecord(`m-${i}`);
  for (let i = 0; i < 3; i++) queue.push(record(i));
  await new Promise((r) => setTimeout(r, DRAIN_DELAY_MS / 2));
  assert.deepEqual(appends, [], "a few records wait for company");
  await new Promise((r) => setTimeout(r, DRAIN_DELAY_MS + 40));
  assert.deepEqual(appends, [3]);
  for (let i = 0; i < 256; i++) queue.push(record(i));
  assert.deepEqual(appends, [3, 256], "a burst is written without waiting");
  await queue.flush();
  assert.equal(queue.size, 0);
});

test("with appendLines, the next batch is encoded and handed over once this one's write has started", async () => {
  const calls: { lines: readonly string[]; onWrite: () => void; done: () => void }[] = [];
  const queue = new RecordQueue({
    name: "lines",
    append: () => Promise.reject(new Error("the queue hands lines to appendLines")),
    appendLines: (lines, onWrite) =>
      new Promise<void>((done) => calls.push({ lines, onWrite: onWrite!, done })),
  }, { batch: 100, proc: PROC, onDrop: () => {}, onFailure: (e) => assert.fail(String(e)) });
  for (let i = 0; i < 255; i++) queue.push(sampleRecord(`m-${i}`));
  const flushed = queue.flush();
  const tick = () => new Promise((r) => setTimeout(r, 2));
  await tick();
  assert.equal(calls.length, 1);
  assert.equal(queue.size, 155, "the next batch waits until this one is being written");
  calls[0]!.onWrite();
  await tick();
  assert.equal(queue.size, 55, "…and is encoded while it is written");
  assert.equal(calls.length, 2, "…and handed over (the storage lands it after the first)");
  calls[0]!.done();
  await tick();
  assert.equal(calls.length, 2, "the third waits for the second's write");
  calls[1]!.done(); // a storage that never says: the queue goes on when the append is done
  await tick();
  assert.equal(calls.length, 3);
  calls[2]!.done();
  await flushed;
  const models = calls.flatMap((c) => c.lines.map((l) => JSON.parse(l).model));
  assert.deepEqual(models, Array.from({ length: 255 }, (_, i) => `m-${i}`));
  assert.ok(calls.every((c) => c.lines.every((l) => !l.includes("\n"))), "one record a line");
});

test("with appendBatch, a batch's bytes stay as handed over until its append settles", async () => {
  const calls: { batch: LineBatch; seen: string[]; onWrite: () => void; done: () => void }[] = [];
  const queue = new RecordQueue({
    name: "bytes",
    append: () => Promise.reject(new Error("the queue hands bytes to appendBatch")),
    appendBatch: (batch, onWrite) =>
      new Promise<void>((done) =>
        calls.push({ batch, seen: batch.lines(), onWrite: onWrite!, done })
      ),
  }, { proc: PROC, onDrop: () => {}, onFailure: (e) => assert.fail(String(e)) });
  const tick = () => new Promise((r) => setTimeout(r, 2));
  let n = 0;
  const burst = () => {
    for (let i = 0; i < 256; i++) queue.push(sampleRecord(`m-${n++}`));
  };
  burst();
  await tick();
  // Batch after batch, each handed over while the ones before are still being written.
  for (let round = 1; round < 4; round++) {
    burst();
    calls.at(-1)!.onWrite();
    await tick();
  }
  assert.equal(calls.length, 4);
  for (const call of calls) assert.deepEqual(call.batch.lines(), call.seen, "not overwritten");
  calls[0]!.done();
  await tick();
  burst(); // into the first batch's buffer, given back
  calls.at(-1)!.onWrite();
  await tick();
  assert.equal(calls.length, 5);
  // The first's bytes are the queue's again; those still being written are untouched.
  for (const call of calls.slice(1)) assert.deepEqual(call.batch.lines(), call.seen);
  for (const call of calls.slice(1)) call.done();
  await queue.flush();
  const models = calls.flatMap((c) => c.seen.map((l) => JSON.parse(l).model));
  assert.deepEqual(models, Array.from({ length: n }, (_, i) => `m-${i}`));
});

test("the queue encodes the next batch while one is written: one append at a time, in order", async () => {
  const written: string[] = [];
  const gates: Array<() => void> = [];
  let inFlight = 0;
  let most = 0;
  let dropped = 0;
  const failures: unknown[] = [];
  const queue = new RecordQueue({
    name: "gated",
    append: async (lines) => {
      most = Math.max(most, ++inFlight);
      await new Promise<void>((resolve) => gates.push(resolve));
      inFlight--;
      const models = lines.split("\n").filter(Boolean).map((l) => JSON.parse(l).model as string);
      if (models.includes("m-150")) throw new Error("disk full"); // the second batch fails
      written.push(...models);
    },
  }, {
    batch: 100,
    proc: PROC,
    onDrop: (n) => (dropped += n),
    onFailure: (e) => failures.push(e),
  });
  for (let i = 0; i < 255; i++) queue.push(sampleRecord(`m-${i}`)); // under a burst: no write yet
  const flushed = queue.flush();
  await new Promise((r) => setTimeout(r, 5));
  // Batch 1 is being written, batch 2 is already encoded (taken from the queue), batch 3 waits.
  assert.equal(gates.length, 1);
  assert.equal(queue.size, 55);
  while (written.length + dropped < 255) {
    gates.shift()?.();
    await new Promise((r) => setTimeout(r, 1));
  }
  await flushed;
  assert.equal(most, 1, "never two appends at once");
  assert.equal(dropped, 100, "the failed batch is counted as dropped");
  assert.equal(failures.length, 1);
  const expected = [...Array(100).keys(), ...Array.from({ length: 55 }, (_, i) => i + 200)];
  assert.deepEqual(written, expected.map((i) => `m-${i}`), "the rest in order");
});

test("a full queue holds its capacity, drops and counts the rest, and writes the count once room returns", async () => {
  const written: Array<{ event: string; model?: string; count?: number }> = [];
  const gates: Array<() => void> = [];
  let dropped = 0;
  const queue = new RecordQueue({
    name: "stalled",
    append: async (lines) => {
      await new Promise<void>((resolve) => gates.push(resolve)); // a disk that does not answer
      written.push(...lines.split("\n").filter(Boolean).map((l) => JSON.parse(l)));
    },
  }, { capacity: 1_000, proc: PROC, onDrop: (n) => (dropped += n), onFailure: assert.fail });
  for (let i = 0; i < 5_000; i++) queue.push(sampleRecord(`m-${i}`));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(gates.length, 1, "one write started, and it waits");
  assert.equal(queue.size, 1_000, "the queue holds its capacity, no more");
  const inFlight = 5_000 - 1_000 - dropped;
  assert.ok(dropped > 0 && inFlight >= 0 && inFlight <= 1_000, `${dropped} dropped`);
  let flushed = false;
  const flushing = queue.flush().then(() => (flushed = true));
  while (!flushed) {
    gates.shift()?.();
    await new Promise((r) => setTimeout(r, 1));
  }
  await flushing;
  const calls = written.filter((r) => r.event === "ai_call");
  assert.equal(calls.length + dropped, 5_000);
  // The oldest are kept: what was dropped is what came after the queue was full.
  assert.deepEqual(calls.map((r) => r.model), calls.map((_, i) => `m-${i}`));
  const counts = written.filter((r) => r.event === "dropped");
  assert.deepEqual(counts.map((r) => r.count), [dropped], "the count is written, once");
});
