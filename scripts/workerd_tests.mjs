// Runs the shared test files inside real workerd (through miniflare): bundles them with a small
// node:test stand-in into one worker, dispatches one request, and prints one line per case plus a
// summary line that scripts/run.mjs reads.
import { mkdir, readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";

const root = resolve(import.meta.dirname, "..");

export async function bundleWorker({ entries, outDir, nodeCompat = true, extraEntry = "" }) {
  await mkdir(outDir, { recursive: true });
  const contents = [
    `export { default } from ${
      JSON.stringify(join(root, "tests/runtime/workerd/runner_worker.ts"))
    };`,
    extraEntry,
    ...entries.map((file) => `import ${JSON.stringify(join(root, file))};`),
  ].join("\n");
  const outfile = join(outDir, "worker.mjs");
  await build({
    stdin: { contents, resolveDir: root, loader: "ts", sourcefile: "workerd-tests.ts" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: nodeCompat ? ["node:*"] : [],
    alias: { "node:test": join(root, "tests/runtime/workerd/node_test_shim.ts") },
    outfile,
    logLevel: "error",
  });
  return outfile;
}

export async function runInWorkerd({ entries, nodeCompat = true, outboundService, filter }) {
  const outDir = join(root, ".tmp", `workerd-${process.pid}-${nodeCompat ? "compat" : "plain"}`);
  const scriptPath = await bundleWorker({ entries, outDir, nodeCompat });
  // Modules listed explicitly: miniflare's own module walk rejects the guard's optional dynamic
  // import() of SDK packages, which a bundled worker never reaches anyway.
  const mf = new Miniflare({
    modules: [{ type: "ESModule", path: scriptPath, contents: await readFile(scriptPath, "utf8") }],
    modulesRoot: outDir,
    compatibilityDate: "2025-09-01",
    compatibilityFlags: nodeCompat ? ["nodejs_compat"] : [],
    ...(outboundService ? { outboundService } : {}),
  });
  try {
    const url = new URL("http://localhost/");
    if (filter) url.searchParams.set("filter", filter);
    const response = await mf.dispatchFetch(url);
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`workerd answered ${response.status}: ${text.slice(0, 2000)}`);
    }
  } finally {
    await mf.dispose();
    if (!process.env.AIGUARD_KEEP_BUNDLE) await rm(outDir, { recursive: true, force: true });
  }
}

if (import.meta.main || process.argv[1] === import.meta.filename) {
  const files = process.argv.slice(2);
  let passed = 0;
  let failed = 0;
  const groups = [
    { nodeCompat: true, entries: files.filter((f) => !f.includes("no_compat")) },
    { nodeCompat: false, entries: files.filter((f) => f.includes("no_compat")) },
  ];
  for (const group of groups) {
    if (group.entries.length === 0) continue;
    let results;
    try {
      results = await runInWorkerd(group);
    } catch (error) {
      console.log(
        `✖ workerd (${group.nodeCompat ? "nodejs_compat" : "plain"}) did not run: ${
          error?.stack ?? error
        }`,
      );
      failed++;
      continue;
    }
    for (const r of results) {
      if (r.ok) passed++;
      else failed++;
      const flag = group.nodeCompat ? "" : " [no nodejs_compat]";
      console.log(
        `${r.ok ? "✔" : "✖"} ${r.name}${flag}${r.skipped ? " # skipped" : ""} (${r.ms}ms)`,
      );
      if (!r.ok) console.log(r.error.split("\n").map((l) => `    ${l}`).join("\n"));
    }
  }
  console.log(`workerd summary: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}
