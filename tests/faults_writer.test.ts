// @runtimes deno bun node
/**
 * The report writer under faults: the synchronous exit write, head lines and seals that name the
 * report, torn tails, stale locks, hostile chain state and unsafe files. Every case counts the
 * records it handed over against the records found.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync, verify as verifySignature } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../cli.ts";
import { createNodeFsStorage } from "../src/storage/node_fs.ts";
import { backupName } from "../src/storage/_rotating_file.ts";
import { verifyChain } from "../src/storage/_chain.ts";
import { sealMessage } from "../src/storage/_seal.ts";

let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), "aiguard-faults-"))));
after(() => rm(dir, { recursive: true, force: true }));

let made = 0;
/** A fresh report path in its own 0700 directory. */
async function reportPath(): Promise<string> {
  const sub = await mkdtemp(join(dir, `r${++made}-`));
  return join(sub, "guard_log.jsonl");
}

const record = (n: number, pad = "") =>
  JSON.stringify({ v: 1, ts: new Date().toISOString(), event: "ai_call", n, pad });

function parsed(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
}

function keyPair(name: string): { privatePath: string; publicPath: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const privatePath = join(dir, `${name}.key.pem`);
  const publicPath = join(dir, `${name}.pub.pem`);
  const publicPem = publicKey.export({ format: "pem", type: "spki" }) as string;
  writeFileSync(privatePath, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
  writeFileSync(publicPath, publicPem);
  return { privatePath, publicPath, publicPem };
}

async function verify(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await main(["verify", ...argv], { out: (t) => (out += t), err: (t) => (out += t) });
  return { code, out };
}

test("appendLinesSync: chained, sealed lines are in the file when it returns; the lock is released", async () => {
  const key = keyPair("sync");
  const path = await reportPath();
  const storage = createNodeFsStorage({ path, signingKey: key.privatePath });
  storage.appendLinesSync([record(1), record(2)]);
  // Read before any await: the write was synchronous.
  const lines = parsed(path);
  assert.deepEqual(lines.map((l) => l.event), ["chain_start", "ai_call", "ai_call", "seal"]);
  assert.deepEqual(lines.map((l) => l.seq), [1, 2, 3, 4]);
  assert.equal(existsSync(`${path}.lock`), false, "the lock is released");
  const head = lines[0]!;
  const seal = lines[3]!;
  assert.match(String(head.report), /^[0-9a-f]{32}$/);
  assert.equal(seal.report, head.report, "the seal names the report its head line started");
  assert.equal(seal.upto, 3);
  // The signature covers report, position and hash, not the hash alone.
  const signed = verifySignature(
    null,
    new TextEncoder().encode(sealMessage(head.report as string, 3, seal.hash as string)),
    createPublicKey(key.publicPem),
    Buffer.from(seal.sig as string, "base64"),
  );
  assert.equal(signed, true);
  const alone = verifySignature(
    null,
    new TextEncoder().encode(seal.hash as string),
    createPublicKey(key.publicPem),
    Buffer.from(seal.sig as string, "base64"),
  );
  assert.equal(alone, false, "a signature over the hash alone could be moved to another report");
  // An async batch after it continues the same chain and report.
  await storage.appendLines!([record(3)]);
  await storage.close();
  const all = parsed(path);
  assert.deepEqual(all.map((l) => l.seq), [1, 2, 3, 4, 5, 6]);
  assert.equal(all[5]!.event, "seal");
  assert.equal(all[5]!.report, head.report);
  const checked = await verify("--file", path, "--key", key.publicPath);
  assert.equal(checked.code, 0, checked.out);
});

test("appendLinesSync during the writer's own batch in flight: every line once, one chain", async () => {
  const path = await reportPath();
  const storage = createNodeFsStorage({ path, maxBytes: 1024 ** 3 });
  const pad = "x".repeat(200);
  const big = Array.from({ length: 20_000 }, (_, i) => record(i, pad)); // ~4.5 MB
  const queued = Array.from({ length: 50 }, (_, i) => record(20_000 + i));
  const extra = Array.from({ length: 50 }, (_, i) => record(20_050 + i));
  let synced = false;
  const inFlight = storage.appendLines!(big, () => {
    // The exit path runs while the big batch's bytes are on their way: it is handed the whole
    // pending set (the batch in flight, the queued one, and more), as a queue's flushSync would.
    storage.appendLinesSync([...big.slice(-100), ...queued, ...extra]);
    synced = true;
  });
  const later = storage.appendLines!(queued);
  await Promise.all([inFlight, later]);
  await storage.close();
  assert.equal(synced, true);
  const ns = parsed(path).filter((l) => l.event === "ai_call").map((l) => l.n as number);
  assert.equal(ns.length, 20_100, "every record once");
  assert.equal(new Set(ns).size, 20_100);
  const chain = verifyChain([{ file: path, text: await readFile(path, "utf8") }]);
  assert.equal(chain.broken, null, JSON.stringify(chain.broken));
  assert.equal(chain.lines, 20_101, "the records and the head line, one chain");
});

test("appendLinesSync waits at most ~2 s for a live holder of the lock, then writes anyway", async () => {
  const path = await reportPath();
  // A lock held by a live process on this host: this one.
  const started = Math.round(performance.timeOrigin);
  writeFileSync(
    `${path}.lock`,
    JSON.stringify({ pid: process.pid, host: hostname(), started, ts: Date.now() }),
  );
  const storage = createNodeFsStorage({ path });
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => void warnings.push(m);
  const t0 = performance.now();
  try {
    storage.appendLinesSync([record(1)]);
  } finally {
    console.warn = warn;
  }
  const waited = performance.now() - t0;
  assert.ok(waited >= 1900 && waited < 4000, `waited ${waited} ms`);
  assert.equal(parsed(path).filter((l) => l.event === "ai_call").length, 1);
  assert.match(warnings.join("\n"), /still held after 2000 ms; writing 1 records without it/);
  assert.equal(existsSync(`${path}.lock`), true, "another's lock is not removed");
});

test("rotation: every file begins with a head line naming the report; dropped_upto accounts for the start", async () => {
  for (const backups of [2, 0]) {
    const path = await reportPath();
    const storage = createNodeFsStorage({ path, maxBytes: 2048, backups });
    for (let i = 1; i <= 60; i++) await storage.appendLines!([record(i, "y".repeat(100))]);
    await storage.close();
    const files = [
      ...Array.from({ length: backups }, (_, i) => backupName(path, backups - i)),
      path,
    ]
      .map((file) => parsed(file));
    const ids = new Set<unknown>();
    for (const lines of files) {
      assert.equal(lines[0]!.event, "rotated", "each kept file begins with its rotated line");
      ids.add(lines[0]!.report);
    }
    assert.equal(ids.size, 1, "one report id across rotation");
    const newest = files.at(-1)![0]!;
    const oldestFirstSeq = files[0]![0]!.seq as number;
    // What rotation dropped ends right before what is kept: nothing missing in between.
    assert.equal((newest.dropped_upto as number) + 1, backups === 0 ? newest.seq : oldestFirstSeq);
    const chain = verifyChain(
      await Promise.all(
        [...Array.from({ length: backups }, (_, i) => backupName(path, backups - i)), path].map(
          async (file) => ({ file, text: await readFile(file, "utf8") }),
        ),
      ),
    );
    assert.equal(chain.broken, null);
    assert.equal(files.flat().at(-1)!.n, 60);
  }
});
