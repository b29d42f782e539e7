// @runtimes deno bun node
/**
 * The chain's writer thread: large batches are chained and written by a worker thread running the
 * same storage code, small ones on the calling thread; the chain stays one chain across both, and
 * across processes; a thread that cannot start or dies loses nothing.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backupName, createRotatingFileStorage } from "../src/storage/_rotating_file.ts";
import { ChainThread } from "../src/storage/_chain_thread.ts";
import { verifyChain } from "../src/storage/_chain.ts";
import { runtimeCommand } from "./support/runtime_command.ts";

let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), "aiguard-chain-thread-"))));
after(() => rm(dir, { recursive: true, force: true }));

const pad = "x".repeat(400);
/** `count` numbered records from `from`: 200 of them pass the writer thread's batch size. */
function batch(from: number, count: number): string {
  let lines = "";
  for (let n = from; n < from + count; n++) lines += JSON.stringify({ v: 1, n, pad }) + "\n";
  return lines;
}

async function chainOf(path: string) {
  return verifyChain([{ file: path, text: await readFile(path, "utf8") }]);
}

const until = async (what: string, ok: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

test("a burst goes to the writer thread, small batches stay here; one intact chain, in order", async () => {
  const path = join(dir, "burst.jsonl");
  let writtenHere = 0;
  const storage = createRotatingFileStorage("node-fs", { path }, async (handle, data) => {
    writtenHere++;
    await handle.write(data);
  });
  let n = 0;
  const append = async (count: number) => {
    await storage.append(batch(n, count));
    n += count;
  };
  await append(3); // small: here
  assert.equal(writtenHere, 1);
  await append(200); // the first large batch starts the thread and is written here meanwhile
  assert.equal(writtenHere, 2);
  // Once the thread is up, large batches are no longer written on this thread.
  for (const end = Date.now() + 10_000;;) {
    const before = writtenHere;
    await append(200);
    if (writtenHere === before) break;
    assert.ok(Date.now() < end, "the writer thread never took a batch");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const here = writtenHere;
  await append(200);
  await append(200);
  assert.equal(writtenHere, here, "large batches went to the writer thread");
  await append(5); // small again: here, after the thread's writes
  assert.equal(writtenHere, here + 1);
  await storage.close?.();

  const text = await readFile(path, "utf8");
  const ns = text.trimEnd().split("\n").map((line) => (JSON.parse(line) as { n: number }).n);
  assert.deepEqual(ns, Array.from({ length: n }, (_, i) => i), "every line once, in order");
  const chain = await chainOf(path);
  assert.equal(chain.broken, null, JSON.stringify(chain.broken));
  assert.equal(chain.firstSeq, 1);
  assert.equal(chain.lastSeq, n);
});

test("writer threads in 3 processes with rotation keep one chain; each process ends on its own", async () => {
  const sub = join(dir, "procs");
  await mkdir(sub);
  const path = join(sub, "guard_log.jsonl");
  const perWriter = 1050; // batches of 200 and 10 alternate
  const script = new URL("./support/rotation_writer.ts", import.meta.url).pathname;
  const took = await Promise.all([0, 1, 2].map((writer) => {
    const [cmd, args] = runtimeCommand(script, [
      path,
      String(writer),
      String(perWriter),
      String(400_000),
      "mixed",
    ]);
    const start = Date.now();
    return new Promise<{ ms: number; batches: number; here: number }>((resolve, reject) =>
      execFile(
        cmd,
        args,
        (error, out, stderr) =>
          error
            ? reject(new Error(stderr))
            : resolve({ ms: Date.now() - start, ...JSON.parse(out) }),
      )
    );
  }));
  for (const { ms, batches, here } of took) {
    // An idle writer thread must not hold the process: it would for 10 s (its idle limit).
    assert.ok(ms < 8_000, `a writer process took ${ms} ms to end`);
    // Half the batches are small (written here); of the large ones, only the first is written
    // here (it starts the thread), the others by the thread.
    const small = Math.floor(batches / 2);
    assert.equal(here, small + 1, `${here} of ${batches} batches written without the thread`);
  }
  const files = [backupName(path, 3), backupName(path, 2), backupName(path, 1), path];
  assert.deepEqual(
    (await readdir(sub)).filter((f) => f.endsWith(".jsonl")).length,
    4,
    "rotated (3 backups and the live file)",
  );
  const chain = verifyChain(
    await Promise.all(files.map(async (file) => ({ file, text: await readFile(file, "utf8") }))),
  );
  assert.equal(chain.broken, null, JSON.stringify(chain.broken));
  assert.equal(chain.lastSeq, 3 * perWriter, "every line of every writer is in the one chain");
  assert.equal(chain.lastSeq! - chain.firstSeq! + 1, chain.lines);
});

test("a writer thread that cannot start: every batch is written on this thread", async () => {
  const path = join(dir, "no-thread.jsonl");
  const thread = new ChainThread(
    { kind: "node-fs", options: { path } },
    () => Promise.reject(new Error("not used")),
    new URL("./support/no_such_worker.ts", import.meta.url),
  );
  assert.equal(thread.append(batch(0, 200)), null); // starts it
  await until("the failed start", () => thread.unavailable);
  assert.equal(thread.append(batch(0, 200)), null);
  await thread.close();
});

test("a writer thread that dies holding a batch: the batch is written on this thread", async () => {
  const written: string[] = [];
  const thread = new ChainThread(
    { kind: "node-fs", options: { path: join(dir, "unused.jsonl") } },
    (lines) => {
      written.push(lines);
      return Promise.resolve();
    },
    new URL("./support/dying_worker.ts", import.meta.url),
  );
  assert.equal(thread.append("{}\n"), null);
  await until("the thread to be ready", () => thread.ready);
  const lines = batch(0, 200);
  await thread.append(lines); // the worker exits on it
  assert.deepEqual(written, [lines]);
  assert.equal(thread.unavailable, true, "a thread that died is not used again");
  assert.equal(thread.append(lines), null);
  await thread.close();
});

test("a write that fails on the writer thread rejects with its error's name and code", async () => {
  const path = join(dir, "a-directory.jsonl");
  await mkdir(path); // appending to a directory fails: EISDIR
  const thread = new ChainThread(
    { kind: "node-fs", options: { path } },
    () => Promise.reject(new Error("not used")),
  );
  assert.equal(thread.append("{}\n"), null);
  await until("the thread to be ready", () => thread.ready);
  await assert.rejects(thread.append(batch(0, 200))!, (error: Error & { code?: string }) => {
    assert.equal(error.code, "EISDIR");
    assert.match(error.message, /a-directory\.jsonl|EISDIR|directory/i);
    return true;
  });
  await thread.close();
  assert.equal(thread.append(batch(0, 200)), null, "a closed thread takes no batch");
});
