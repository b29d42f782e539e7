/**
 * The one contract every storage adapter passes (like unstorage's testDriver()): each adapter's
 * test file calls storageContract() with a way to make the adapter and read back what it kept.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StorageAdapter } from "../../mod.ts";
import { backupName } from "../../src/storage/_rotating_file.ts";

export interface StorageUnderTest {
  storage: StorageAdapter;
  /** The lines the adapter kept, in the order it keeps them. */
  read(): Promise<string[]>;
  cleanup(): Promise<void>;
}

const line = (n: number, extra = "") => JSON.stringify({ v: 1, event: "ai_call", n, extra });

/** Lines the chain itself writes (head, recovery, seal): not records the adapter was given. */
const CHAIN_EVENT =
  /^\{"seq":\d+,"prev":[^,]+,"event":"(?:chain_start|rotated|report_id|reset|recovered|seal)"/;

/** A report file's record lines (the chain's own lines left out). */
export async function recordLines(file: string): Promise<string[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").filter((l) => l !== "" && !CHAIN_EVENT.test(l));
}

/** A rotating adapter made with a small threshold; `files()` reads backups oldest first, then live. */
export interface RotatingUnderTest {
  storage: StorageAdapter;
  files(): Promise<string[][]>;
  cleanup(): Promise<void>;
}

/** A rotating file adapter under test in a temp folder: `make` builds it for a path. */
export async function rotatingFiles(
  prefix: string,
  make: (options: { path: string; maxBytes: number; backups: number }) => StorageAdapter,
  maxBytes: number,
  backups: number,
): Promise<RotatingUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const path = join(dir, "guard_log.jsonl");
  const lines = recordLines;
  return {
    storage: make({ path, maxBytes, backups }),
    files: async () => {
      const all = [];
      for (let i = backups; i >= 1; i--) all.push(await lines(backupName(path, i)));
      all.push(await lines(path));
      return all.filter((f) => f.length > 0);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

type MakeFileStorage = (
  options: { path: string; maxBytes?: number; backups?: number },
) => StorageAdapter;

/**
 * The contract for a rotating file adapter (node-fs, bun-file): made for a file in a temp folder,
 * read back line by line, rotation included.
 */
export function fileStorageContract(name: string, prefix: string, make: MakeFileStorage): void {
  storageContract(
    name,
    async () => {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      const path = join(dir, "guard_log.jsonl");
      return {
        storage: make({ path }),
        read: () => recordLines(path),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
    (maxBytes, backups) => rotatingFiles(prefix, make, maxBytes, backups),
  );
}

/**
 * Runs the contract against an adapter. `rotating` (file adapters) also checks rotation: the
 * threshold, the number of backups, the order of lines across files, and that nothing is torn.
 */
export function storageContract(
  name: string,
  make: () => Promise<StorageUnderTest>,
  rotating?: (maxBytes: number, backups: number) => Promise<RotatingUnderTest>,
): void {
  const withStorage = (fn: (s: StorageUnderTest) => Promise<void>) => async () => {
    const s = await make();
    try {
      await fn(s);
    } finally {
      await s.cleanup();
    }
  };

  test(
    `${name} storage appends lines and reads them back in order`,
    withStorage(async (s) => {
      await s.storage.append(`${line(1)}\n${line(2)}\n`);
      await s.storage.append(`${line(3)}\n`);
      assert.deepEqual((await s.read()).map((l) => JSON.parse(l).n), [1, 2, 3]);
    }),
  );

  test(
    `${name} storage writes nothing for an empty append`,
    withStorage(async (s) => {
      await s.storage.append("");
      assert.deepEqual(await s.read(), []);
    }),
  );

  test(
    `${name} storage keeps unicode and escaped control characters intact`,
    withStorage(async (s) => {
      const text = line(1, "naïve 模型 \u2028 \n\t\u0000 🚀");
      await s.storage.append(`${text}\n`);
      const [kept] = await s.read();
      // File storages chain each line (seq, prev first): the record itself is kept as it was.
      const { seq: _seq, prev: _prev, ...record } = JSON.parse(kept!);
      assert.deepEqual(record, JSON.parse(text));
      assert.equal(kept!.endsWith(text.slice(1)), true, "the record's own bytes are unchanged");
      assert.equal(record.extra, "naïve 模型 \u2028 \n\t\u0000 🚀");
    }),
  );

  test(
    `${name} storage keeps every line of 50 concurrent appends once, none torn`,
    withStorage(async (s) => {
      await Promise.all(Array.from({ length: 50 }, (_, batch) => {
        let lines = "";
        for (let i = 0; i < 20; i++) lines += `${line(batch * 20 + i, "x".repeat(100))}\n`;
        return s.storage.append(lines);
      }));
      const kept = (await s.read()).map((l) => JSON.parse(l).n as number);
      assert.equal(kept.length, 1000);
      assert.equal(new Set(kept).size, 1000);
    }),
  );

  test(
    `${name} storage: appendLines, where it has it, lands overlapping calls in call order`,
    withStorage(async (s) => {
      if (!s.storage.appendLines) return; // optional: the queue joins lines for `append` instead
      let started = 0;
      await Promise.all(Array.from({ length: 10 }, (_, batch) =>
        s.storage.appendLines!(
          Array.from({ length: 30 }, (_, i) => line(batch * 30 + i, "z".repeat(50))),
          () => started++,
        )));
      const kept = (await s.read()).map((l) => JSON.parse(l).n as number);
      assert.deepEqual(kept, Array.from({ length: 300 }, (_, i) => i));
      assert.equal(started, 10, "onWrite is called once per batch");
    }),
  );

  test(
    `${name} storage closes: what was appended is kept, and closing twice is harmless`,
    withStorage(async (s) => {
      await s.storage.append(`${line(1)}\n${line(2)}\n`);
      await s.storage.close?.();
      await s.storage.close?.();
      assert.deepEqual((await s.read()).map((l) => JSON.parse(l).n), [1, 2]);
    }),
  );

  if (rotating) {
    test(`${name} storage rotates at maxBytes, keeps the newest backups, loses no order`, async () => {
      const r = await rotating(1024, 2);
      try {
        // 40 lines of about 100 bytes, one append each: about four files' worth.
        for (let i = 1; i <= 40; i++) await r.storage.append(`${line(i, "y".repeat(60))}\n`);
        await r.storage.close?.();
        const files = await r.files();
        assert.equal(files.length, 3, "the live file and 2 backups");
        const encoder = new TextEncoder();
        for (const lines of files) {
          const bytes = encoder.encode(lines.map((l) => `${l}\n`).join("")).length;
          assert.ok(bytes <= 1024, `a file of ${bytes} bytes passed maxBytes`);
        }
        const kept = files.flat().map((l) => JSON.parse(l).n as number);
        assert.equal(kept.at(-1), 40, "the newest line is in the live file");
        assert.ok(kept[0]! > 1, "the oldest backup was dropped");
        assert.deepEqual(kept, kept.slice().sort((a, b) => a - b), "oldest first, in order");
        assert.deepEqual(kept, Array.from({ length: kept.length }, (_, i) => kept[0]! + i));
      } finally {
        await r.cleanup();
      }
    });
  }
}
