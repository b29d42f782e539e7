// @runtimes deno bun node
// The synchronous write of exit paths: the queue hands what is pending to appendLinesSync, and the
// default `file` storage (a module loaded lazily) forwards appendLines and appendLinesSync to the
// runtime's adapter.
import { afterEach, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveOptions, type StorageAdapter } from "../../src/config.ts";
import { defaultStorage } from "../../src/report/chain.ts";
import { LineBatch } from "../../src/report/line_batch.ts";
import { RecordQueue } from "../../src/report/queue.ts";
import { createNodeFsStorage } from "../../src/storage/node_fs.ts";
import { verifyChain } from "../support/verify_report.ts";
import { PROC, sampleRecord } from "../support/records.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "aiguard-flushsync-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const modelsOf = (text: string) =>
  text.split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.event === "ai_call")
    .map((r) => r.model as string);

test("flushSync hands the batch in flight (unacknowledged) and then the queue to appendLinesSync, once", async () => {
  const handed: string[][] = [];
  let release!: () => void;
  const queue = new RecordQueue({
    name: "gated",
    append: () => Promise.reject(new Error("the queue hands lines to appendLines")),
    // The first batch is taken and never acknowledged before the exit.
    appendLines: () => new Promise<void>((resolve) => (release = resolve)),
    appendLinesSync: (lines) => void handed.push([...lines]),
  }, { batch: 100, proc: PROC, onDrop: () => {}, onFailure: (e) => assert.fail(String(e)) });
  for (let i = 0; i < 300; i++) queue.push(sampleRecord(`m-${i}`)); // a burst: a batch is taken
  await new Promise((r) => setTimeout(r, 5));
  assert.ok(queue.size < 300, "a batch is in flight");
  queue.flushSync();
  assert.equal(handed.length, 1, "one synchronous write");
  assert.deepEqual(
    handed[0]!.map((l) => JSON.parse(l).model),
    Array.from({ length: 300 }, (_, i) => `m-${i}`),
    "in order: the unacknowledged batch first, then every queued record",
  );
  assert.equal(queue.size, 0);
  queue.flushSync();
  assert.equal(handed.length, 1, "nothing is handed twice");
  release();
});

test("flushSync through the real file storage: every record once, chained, with a batch in flight", async () => {
  const path = join(dir, "guard_log.jsonl");
  const queue = new RecordQueue(createNodeFsStorage({ path }), {
    proc: PROC,
    onDrop: () => assert.fail("nothing may be dropped"),
    onFailure: (e) => assert.fail(String(e)),
  });
  for (let i = 0; i < 5000; i++) queue.push(sampleRecord(`m-${i}`)); // the first 4096 go out
  queue.flushSync(); // in the same turn: as process.exit() right after a burst
  const text = readFileSync(path, "utf8");
  assert.deepEqual(modelsOf(text), Array.from({ length: 5000 }, (_, i) => `m-${i}`));
  const report = await verifyChain([{ file: path, text }]);
  assert.equal(report.broken, null);
  // If the process goes on (an app's own SIGTERM handler), the async write in flight must not
  // write the batch again.
  await queue.flush();
  const after = await readFile(path, "utf8");
  assert.equal(modelsOf(after).length, 5000, "the batch in flight is not written twice");
  assert.equal((await verifyChain([{ file: path, text: after }])).broken, null);
});

// The default file sink's lazy storage forwards both of the adapter's fast paths: lines, and the
// queue's batches as bytes. Only the adapter's own write says when it has started (the queue
// pipelines on it).
for (
  const [name, file, append] of [
    [
      "appendLines: batches reach the adapter's own fast path",
      "guard_log.jsonl",
      (s: StorageAdapter, lines: string[], started: () => void) => s.appendLines!(lines, started),
    ],
    [
      "appendBatch: the queue's batches reach the adapter as bytes",
      "guard_log_batch.jsonl",
      (s: StorageAdapter, lines: string[], started: () => void) =>
        s.appendBatch!(LineBatch.of(lines), started),
    ],
  ] as const
) {
  test(`the default file storage forwards ${name}`, async () => {
    const path = join(dir, file);
    const storage = defaultStorage(resolveOptions({ reportPath: path }));
    const method = name.slice(0, name.indexOf(":")) as "appendLines" | "appendBatch";
    assert.equal(typeof storage[method], "function");
    let writing = false;
    const models = [0, 1, 2].map((i) => `${method}-${i}`);
    await append(
      storage,
      models.map((m) => JSON.stringify(sampleRecord(m))),
      () => (writing = true),
    );
    assert.equal(writing, true, "the adapter says when the write has started");
    const text = await readFile(path, "utf8");
    assert.deepEqual(modelsOf(text), models);
    assert.equal((await verifyChain([{ file: path, text }])).broken, null);
  });
}

test("the default file storage writes synchronously before its module has loaded (an exit in the first turn)", async () => {
  const path = join(dir, "guard_log.jsonl");
  const storage = defaultStorage(resolveOptions({ reportPath: path }));
  storage.appendLinesSync!([JSON.stringify(sampleRecord("first-turn"))]);
  const text = readFileSync(path, "utf8");
  assert.deepEqual(modelsOf(text), ["first-turn"]);
  assert.equal((await verifyChain([{ file: path, text }])).broken, null);
});
