import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBunFileStorage } from "../../../src/storage/bun_file.ts";
import { defaultStorage } from "../../../src/report/chain.ts";
import { resolveOptions } from "../../../src/config.ts";
import { rotatingFiles, storageContract } from "../../support/storage_contract.ts";

storageContract(
  "bun-file",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "aiguard-bunfile-"));
    const path = join(dir, "guard_log.jsonl");
    return {
      storage: createBunFileStorage({ path }),
      read: async () => (await readFile(path, "utf8").catch(() => "")).split("\n").filter(Boolean),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  (maxBytes, backups) => rotatingFiles("aiguard-bunfile-", createBunFileStorage, maxBytes, backups),
);

test("bun-file is Bun's default storage; it appends (never truncates) with mode 0600", async () => {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-bunfile-"));
  try {
    const path = join(dir, "guard_log.jsonl");
    const storage = defaultStorage(resolveOptions({ reportPath: path }));
    assert.equal(storage.name, "bun-file");
    await storage.append("a\n");
    await storage.append("b\n");
    assert.equal(await readFile(path, "utf8"), "a\nb\n");
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
