// @runtimes deno bun node
/**
 * Do no harm at load: every package in this repository's `node_modules`, and a few module shapes
 * known to trip module hooks, load the same with and without the preload, through `import()` and
 * `require()`, and every export keeps its type (and a function its name and arity).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname!, "..");
const child = join(root, "tests", "support", "import_matrix_child.mjs");

/** Shapes that broke under load hooks, beyond the packages' entries. */
const SHAPES = [
  "yargs/yargs", // extensionless CommonJS inside a `"type": "module"` package (the mocha CLI)
  "ajv/dist/2020", // a CommonJS subpath
  "ws/wrapper.mjs", // an ESM wrapper around a CommonJS package
  "mime-db/db.json", // JSON through require()
  "openai/resources/chat/completions", // an SDK subpath: never redirected
  "./tests/fixtures/import_matrix/probe.cjs", // require.extensions / require.cache, JSON, yargs
  "./tests/fixtures/import_matrix/tla.mjs", // top-level await
];

function packagesHere(): string[] {
  const names: string[] = [];
  for (const name of readdirSync(join(root, "node_modules"))) {
    if (name.startsWith(".")) continue;
    if (!name.startsWith("@")) names.push(name);
    else {for (const sub of readdirSync(join(root, "node_modules", name))) {
        names.push(`${name}/${sub}`);
      }}
  }
  return names.sort();
}

function command(preload: boolean, args: string[]): [string, string[]] {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno) {
    return [deno.execPath(), [
      "run",
      "-A",
      ...(preload ? ["--preload", "./auto.ts"] : []),
      child,
      ...args,
    ]];
  }
  if ((globalThis as { Bun?: unknown }).Bun) {
    return [process.execPath, [...(preload ? ["--preload", "./auto.ts"] : []), child, ...args]];
  }
  return [process.execPath, [...(preload ? ["--import", "./auto.ts"] : []), child, ...args]];
}

interface Outcome {
  spec: string;
  via: string;
  ok: boolean;
  error?: string;
  shape?: string[];
}

function load(dir: string, name: string, specs: string[], preload: boolean) {
  const list = join(dir, `${name}.list.json`);
  const out = join(dir, `${name}.out.json`);
  writeFileSync(list, JSON.stringify(specs));
  const [cmd, args] = command(preload, [out, list]);
  const env = { ...process.env, AIGUARD_MODE: "report", AIGUARD_SINKS: "memory" };
  return new Promise<{ guarded: boolean; results: Outcome[] }>((resolve, reject) =>
    execFile(cmd, args, { cwd: root, env, maxBuffer: 64 * 2 ** 20 }, (error, _stdout, stderr) => {
      if (error) return reject(new Error(`${name}: ${error.message}\n${stderr.slice(-2000)}`));
      resolve(JSON.parse(readFileSync(out, "utf8")));
    })
  );
}

/** Runs the jobs `limit` at a time (two cores are shared with the rest of the suite). */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  }));
  return results;
}

test("every installed package loads the same, with the same exports, with and without the preload", async () => {
  const specs = [...packagesHere(), ...SHAPES];
  const chunks = 3;
  const slices = Array.from({ length: chunks }, (_, k) => specs.filter((_, i) => i % chunks === k));
  const dir = mkdtempSync(join(tmpdir(), "aiguard-matrix-"));
  try {
    const jobs = slices.flatMap((slice, k) => [
      () => load(dir, `plain-${k}`, slice, false),
      () => load(dir, `preload-${k}`, slice, true),
    ]);
    const runs = await pool(jobs, 4);
    const plain = runs.filter((_, i) => i % 2 === 0);
    const withPreload = runs.filter((_, i) => i % 2 === 1);
    assert.ok(plain.every((run) => !run.guarded), "the plain runs have no guard");
    assert.ok(withPreload.every((run) => run.guarded), "the preload's guard is live");
    const before = plain.flatMap((run) => run.results);
    const after = withPreload.flatMap((run) => run.results);
    assert.equal(after.length, before.length);
    const loaded = before.filter((r) => r.ok).length;
    assert.ok(
      loaded > 500,
      `most of the ${before.length} loads succeed without the guard (${loaded})`,
    );
    const differences = before.flatMap((was, i) => {
      const now = after[i]!;
      if (was.ok !== now.ok) {
        return [
          `${was.spec} (${was.via}): ${was.ok ? "loads" : was.error} → ${
            now.ok ? "loads" : now.error
          }`,
        ];
      }
      if (was.ok && JSON.stringify(was.shape) !== JSON.stringify(now.shape)) {
        const lost = was.shape!.filter((s) => !now.shape!.includes(s));
        const gained = now.shape!.filter((s) => !was.shape!.includes(s));
        return [
          `${was.spec} (${was.via}): exports differ: -${lost.join(", -")} +${gained.join(", +")}`,
        ];
      }
      return [];
    });
    assert.deepEqual(
      differences,
      [],
      `${loaded} of ${before.length} loads; differences with the preload`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
