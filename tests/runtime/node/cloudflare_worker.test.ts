import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";

async function bootWorker(options: { mode: string; nodeCompat: boolean }) {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-worker-"));
  const scriptPath = join(dir, "worker.mjs");
  await build({
    entryPoints: [resolve("examples/cloudflare-worker/src/worker.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    external: options.nodeCompat ? ["node:*"] : [],
    outfile: scriptPath,
    logLevel: "error",
  });
  const outbound: string[] = [];
  let stdout = "";
  // miniflare's own module walk (scriptPath, modules: true), as `wrangler dev` boots a worker: it
  // refuses a bundle holding a dynamic import() of a non-literal specifier.
  const mf = new Miniflare({
    scriptPath,
    modules: true,
    modulesRoot: dir,
    compatibilityDate: "2025-09-01",
    compatibilityFlags: options.nodeCompat ? ["nodejs_compat"] : [],
    bindings: { MODE: options.mode, OPENAI_API_KEY: "sk-worker-secret" },
    outboundService: (request: Request) => {
      outbound.push(`${request.method} ${request.url}`);
      return new Response(JSON.stringify({ id: "chatcmpl-edge" }), {
        headers: { "content-type": "application/json" },
      });
    },
    handleRuntimeStdio: (out, err) => {
      out.on("data", (chunk: Buffer) => (stdout += chunk));
      err.on("data", () => {});
    },
  });
  return {
    outbound,
    stdout: () => stdout,
    fetch: (path: string) => mf.dispatchFetch(`http://worker.test${path}`),
    close: async () => {
      await mf.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

for (const nodeCompat of [true, false]) {
  const label = nodeCompat ? "with nodejs_compat" : "without nodejs_compat (shim)";
  test(`cloudflare worker example, report mode, ${label}: records via console and memory`, async () => {
    const worker = await bootWorker({ mode: "report", nodeCompat });
    try {
      const plain = await worker.fetch("/");
      assert.equal(plain.status, 200);
      assert.deepEqual(await plain.json(), { id: "chatcmpl-edge" });
      const reviewed = await worker.fetch("/reviewed");
      assert.equal(reviewed.status, 200);
      await reviewed.text();
      const records = await (await worker.fetch("/records")).json() as Array<
        Record<string, unknown>
      >;
      assert.equal(records.length, 1);
      assert.equal(records[0]!.provider, "openai");
      assert.equal(records[0]!.model, "gpt-4o-mini");
      assert.equal(records[0]!.runtime, "workerd");
      assert.equal(records[0]!.action, "reported");
      assert.equal(worker.outbound.length, 2);
      // The console sink: one JSON line per record, and never the API key.
      for (let i = 0; i < 50 && !worker.stdout().includes('"event":"ai_call"'); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const lines = worker.stdout().split("\n").filter((l) => l.includes('"event":"ai_call"'));
      assert.equal(lines.length, 1, worker.stdout());
      assert.equal(JSON.parse(lines[0]!.slice(lines[0]!.indexOf("{"))).provider, "openai");
      assert.ok(!worker.stdout().includes("sk-worker-secret"));
    } finally {
      await worker.close();
    }
  });
}

test("the core bundles for the edge: no import() of a non-literal specifier in what mod.ts reaches", async () => {
  const result = await build({
    entryPoints: [resolve("mod.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    external: ["node:*"],
    write: false,
    logLevel: "silent",
  });
  assert.deepEqual(result.warnings.map((w) => w.text), []);
  const code = result.outputFiles[0]!.text;
  // Only the storage adapters' lazy chunks are imported dynamically, by literal paths.
  const dynamic = [...code.matchAll(/\bimport\(([^)]*)\)/g)].map((m) => m[1]!.trim());
  assert.ok(dynamic.every((arg) => /^["'`][^"'`$]*["'`]$/.test(arg)), dynamic.join(", "));
});

test("cloudflare worker example, block mode: unattested calls get 451 and nothing goes out", async () => {
  const worker = await bootWorker({ mode: "block", nodeCompat: true });
  try {
    const blocked = await worker.fetch("/");
    assert.equal(blocked.status, 451);
    assert.match((await blocked.json() as { blocked: string }).blocked, /openai.*attest\(\)/);
    assert.equal(worker.outbound.length, 0);
    const reviewed = await worker.fetch("/reviewed");
    assert.equal(reviewed.status, 200);
    await reviewed.text();
    assert.equal(worker.outbound.length, 1);
  } finally {
    await worker.close();
  }
});
