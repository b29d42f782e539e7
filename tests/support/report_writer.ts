// A child process for the writer's fault tests: appends numbered records through the runtime's
// file storage (bun-file on Bun, node-fs elsewhere) and prints `ack <last n>` on stdout once each
// batch is acknowledged, so a parent that kills it knows what it was told was written.
//
// Arguments: <path> <writer name> <records> <records per batch> <pad bytes> [maxBytes] [backups]
//            [mode] — "hold": take the lock and sleep until killed, printing "locked";
//            "burst": <records> pushed through the bounded queue (default capacity), <records per
//            batch> at a time with a 1 ms timer between, printing `waited <ms>` (until the first
//            batch landed) and `dropped <n>` after the flush;
//            "killed-mid-write": after the first acknowledged batch, sends itself SIGKILL a random
//            few hundred microseconds after a batch's write has started (the write then runs on
//            the runtime's thread pool).
import process from "node:process";
import { createNodeFsStorage } from "../../src/storage/node_fs.ts";
import { createBunFileStorage } from "../../src/storage/bun_file.ts";
import { lockSync, syncFs } from "../../src/storage/_report_lock.ts";
import { RecordQueue } from "../../src/report/queue.ts";
import type { AnyRecord } from "../../src/report/record.ts";
import type { LineBatch } from "../../src/report/line_batch.ts";

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const [path, writer, total, perBatch, padBytes, maxBytes, backups, mode] = args;
const print = (text: string) => process.stdout.write(`${text}\n`);

if (mode === "hold") {
  // Holds the report's lock as a writer mid-batch would, until killed.
  const held = lockSync(syncFs("node-fs"), `${path}.lock`, 5000);
  print(held ? "locked" : "not locked");
  setInterval(() => {}, 1000);
} else if (mode === "burst") {
  const make = "Bun" in globalThis ? createBunFileStorage : createNodeFsStorage;
  const storage = make({ path: path!, maxBytes: Number(maxBytes), backups: Number(backups) });
  const pad = "x".repeat(Number(padBytes));
  // The burst starts at once, as an app's calls would, whatever state the lock is in; `waited` is
  // how long until its first batch landed.
  const t0 = performance.now();
  let waited = -1;
  const timed = {
    ...storage,
    // The queue's way in (its batches as bytes).
    appendBatch: async (batch: LineBatch, onWrite?: () => void) => {
      await storage.appendBatch!(batch, onWrite);
      if (waited < 0) waited = performance.now() - t0;
    },
  };
  let dropped = 0;
  const queue = new RecordQueue(timed, {
    proc: { runtime: "test", service: null, pid: 1 },
    onDrop: (n) => (dropped += n),
    onFailure: (error) => print(`failure ${(error as Error).message}`),
  });
  const count = Number(total);
  const chunk = Number(perBatch);
  for (let from = 0; from < count; from += chunk) {
    for (let n = from; n < Math.min(from + chunk, count); n++) {
      queue.push({ v: 1, event: "ai_call", writer, n, pad } as unknown as AnyRecord);
    }
    // An app's pace: the event loop turns (a timer) between chunks.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await queue.close();
  print(`waited ${Math.round(waited)}`);
  print(`dropped ${dropped}`);
} else {
  const make = "Bun" in globalThis ? createBunFileStorage : createNodeFsStorage;
  const storage = make({
    path: path!,
    maxBytes: Number(maxBytes ?? 1024 ** 3),
    backups: Number(backups ?? 3),
  });
  const pad = "x".repeat(Number(padBytes));
  const count = Number(total);
  const batch = Number(perBatch);
  const t0 = Date.now();
  const killMidWrite = (from: number) => () => {
    if (mode !== "killed-mid-write" || from === 0) return;
    const until = performance.now() + Math.random() * 0.6;
    while (performance.now() < until) {
      // the write goes on off this thread
    }
    process.kill(process.pid, "SIGKILL");
  };
  for (let from = 0; from < count; from += batch) {
    const lines: string[] = [];
    for (let n = from; n < Math.min(from + batch, count); n++) {
      // Every record the same size (the pad makes up for n's digits).
      lines.push(
        JSON.stringify({ v: 1, event: "ai_call", writer, n, pad: pad.slice(String(n).length) }),
      );
    }
    await storage.appendLines!(lines, killMidWrite(from));
    print(`ack ${from + lines.length - 1}`);
  }
  await storage.close();
  print(`done ${Date.now() - t0}`);
}
