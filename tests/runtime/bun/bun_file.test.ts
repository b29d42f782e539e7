import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBunFileStorage } from "../../../src/storage/bun_file.ts";
import { defaultStorage } from "../../../src/report/chain.ts";
import { resolveOptions } from "../../../src/config.ts";
import { fileStorageContract } from "../../support/storage_contract.ts";
import { verifyChain } from "../../support/verify_report.ts";

fileStorageContract("bun-file", "aiguard-bunfile-", createBunFileStorage);

test("bun-file is Bun's default storage; it appends (never truncates) with mode 0600", async () => {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-bunfile-"));
  try {
    const path = join(dir, "guard_log.jsonl");
    const storage = defaultStorage(resolveOptions({ reportPath: path }));
    assert.equal(storage.name, "bun-file");
    await storage.append("a\n");
    await storage.append("b\n");
    // The chain's head line first (it names the report), then what was appended, in order.
    const [head, ...rest] = (await readFile(path, "utf8")).split("\n");
    assert.match(head!, /^\{"seq":1,"prev":null,"event":"chain_start","report":"[0-9a-f]{32}"/);
    assert.deepEqual(rest, ["a", "b", ""]);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("bun-file: large batches (off the main thread) and small ones (FileSink) land in order, chained", async () => {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-bunfile-"));
  try {
    const path = join(dir, "guard_log.jsonl");
    const storage = createBunFileStorage({ path, maxBytes: 1024 ** 3 });
    const line = (n: number) => JSON.stringify({ v: 1, event: "ai_call", n, pad: "x".repeat(200) });
    let n = 0;
    const batches: string[][] = [];
    // ~700 KiB, then 3 lines, then ~700 KiB again, …: both write paths, back to back, overlapping.
    for (let round = 0; round < 4; round++) {
      batches.push(Array.from({ length: 3000 }, () => line(++n)));
      batches.push(Array.from({ length: 3 }, () => line(++n)));
    }
    await Promise.all(batches.map((b) => storage.appendLines!(b)));
    const text = await readFile(path, "utf8");
    const ns = text.trimEnd().split("\n").slice(1).map((l) => JSON.parse(l).n);
    assert.deepEqual(ns, Array.from({ length: n }, (_, i) => i + 1));
    const report = await verifyChain([{ file: path, text }]);
    assert.equal(report.broken, null);
    assert.equal(report.lines, n + 1, "the records and the chain_start line");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
