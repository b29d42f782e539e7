import { test } from "node:test";
import assert from "node:assert/strict";
import { createDenoKvStorage, KV_PREFIX, readDenoKvLines } from "../../../src/storage/deno_kv.ts";
import { storageContract } from "../../support/storage_contract.ts";

async function tempKv() {
  const dir = await Deno.makeTempDir({ prefix: "aiguard-kv-" });
  const path = `${dir}/guard.kv`;
  const kv = await Deno.openKv(path);
  return { dir, path, kv };
}

storageContract("deno-kv", async () => {
  const { dir, kv } = await tempKv();
  return {
    storage: createDenoKvStorage({ kv }),
    read: async () => {
      const out: string[] = [];
      for await (const l of readDenoKvLines(kv)) out.push(l);
      return out;
    },
    cleanup: async () => {
      kv.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});

test("deno-kv opens its own store by path, sets a retention, and reads back after reopening", async () => {
  const { dir, path, kv: probe } = await tempKv();
  probe.close();
  try {
    const storage = createDenoKvStorage({ path, expireIn: 60_000 });
    await storage.append('{"n":1}\n{"n":2}\n');
    await storage.close();
    const kv = await Deno.openKv(path);
    const lines: string[] = [];
    for await (const l of readDenoKvLines(kv)) lines.push(l);
    const entries = [];
    for await (const e of kv.list({ prefix: [...KV_PREFIX] })) entries.push(e);
    kv.close();
    assert.deepEqual(lines, ['{"n":1}', '{"n":2}']);
    assert.equal(entries.length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
