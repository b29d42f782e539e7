import { test } from "node:test";
import assert from "node:assert/strict";
import { main } from "../../../cli.ts";
import { enableGuard } from "../../../mod.ts";
import { createDenoKvStorage } from "../../../src/storage/deno_kv.ts";
import { installNetwork } from "../../support/fake_network.ts";

test("Deno Deploy shape: report mode into Deno KV, then `aiguard export --kv` gives JSONL back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aiguard-kvexport-" });
  const path = `${dir}/guard.kv`;
  const net = installNetwork();
  const storage = createDenoKvStorage({ path });
  const guard = enableGuard({ mode: "report", sinks: ["file"], storage });
  try {
    for (const model of ["m1", "m2", "m3"]) {
      await fetch("https://api.anthropic.com/v1/messages", {
        method: "POST",
        body: JSON.stringify({ model }),
      });
    }
    await guard.flush();
  } finally {
    await guard.disable();
    await storage.close();
    net.restore();
  }
  let out = "";
  const code = await main(["export", "--kv", path], { out: (t) => (out += t), err: () => {} });
  await Deno.remove(dir, { recursive: true });
  assert.equal(code, 0);
  const records = out.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(records.map((r) => [r.provider, r.model]), [
    ["anthropic", "m1"],
    ["anthropic", "m2"],
    ["anthropic", "m3"],
  ]);
});
