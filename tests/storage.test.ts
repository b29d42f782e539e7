// @runtimes deno bun node
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeFsStorage } from "../src/storage/node_fs.ts";
import { createMemoryStorage } from "../src/storage/memory.ts";
import { createConsoleStorage } from "../src/storage/console.ts";
import { storageContract } from "./support/storage_contract.ts";

storageContract("node-fs", async () => {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-nodefs-"));
  const path = join(dir, "guard_log.jsonl");
  return {
    storage: createNodeFsStorage({ path }),
    read: async () => (await readFile(path, "utf8").catch(() => "")).split("\n").filter(Boolean),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

storageContract("memory", () => {
  const storage = createMemoryStorage({ capacity: 5000 });
  return Promise.resolve({
    storage,
    read: () => Promise.resolve(storage.records().map((r) => JSON.stringify(r))),
    cleanup: () => Promise.resolve(),
  });
});

storageContract("console", () => {
  const logged: string[] = [];
  return Promise.resolve({
    storage: createConsoleStorage((l) => logged.push(l)),
    read: () => Promise.resolve(logged),
    cleanup: () => Promise.resolve(),
  });
});
