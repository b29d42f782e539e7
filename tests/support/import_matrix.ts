/**
 * The import matrix, shared by the per-runtime test and the Node-versions test: every package in
 * this repository's `node_modules` plus a few module shapes known to trip module hooks, loaded
 * through `import()` and `require()` by a few child processes with and without the preload, and
 * the list of what loads differently or exports something of another type.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isBuiltin } from "node:module";
import { join } from "node:path";

const root = join(import.meta.dirname!, "..", "..");
const child = join(root, "tests", "support", "import_matrix_child.mjs");

/** Shapes that broke under load hooks, beyond the packages' entries. */
export const SHAPES: readonly string[] = [
  "yargs/yargs", // extensionless CommonJS inside a `"type": "module"` package (the mocha CLI)
  "ajv/dist/2020", // a CommonJS subpath
  "ws/wrapper.mjs", // an ESM wrapper around a CommonJS package
  "mime-db/db.json", // JSON through require()
  "openai/resources/chat/completions", // an SDK subpath: never redirected
  "./tests/fixtures/import_matrix/probe.cjs", // require.extensions / require.cache, JSON, yargs
  "./tests/fixtures/import_matrix/tla.mjs", // top-level await
];

/**
 * The top-level package names in this repository's `node_modules` (scoped ones included), but not
 * those a built-in module shadows (`process`, `events`, `buffer`: `import("process")` loads the
 * built-in, a live object whose shape depends on what ran before, such as Node wrapping
 * `process.chdir` when a first worker starts).
 */
export function installedPackages(): string[] {
  const names: string[] = [];
  for (const name of readdirSync(join(root, "node_modules"))) {
    if (name.startsWith(".") || isBuiltin(name)) continue;
    if (!name.startsWith("@")) names.push(name);
    else {
      for (const sub of readdirSync(join(root, "node_modules", name))) names.push(`${name}/${sub}`);
    }
  }
  return names.sort();
}

/** How to start the child on a runtime: its executable and the arguments before the script. */
export interface Launcher {
  exec: string;
  /** Arguments for a plain start and for a start with the preload. */
  args(preload: boolean): string[];
}

/** The launcher of the runtime running this test. */
export function currentRuntime(): Launcher {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno) {
    return {
      exec: deno.execPath(),
      args: (preload) => ["run", "-A", ...(preload ? ["--preload", "./auto.ts"] : [])],
    };
  }
  const flag = (globalThis as { Bun?: unknown }).Bun ? "--preload" : "--import";
  return { exec: process.execPath, args: (preload) => preload ? [flag, "./auto.ts"] : [] };
}

interface Outcome {
  spec: string;
  via: string;
  ok: boolean;
  error?: string;
  shape?: string[];
}
interface Run {
  guarded: boolean;
  results: Outcome[];
}

function load(launcher: Launcher, dir: string, name: string, specs: string[], preload: boolean) {
  const list = join(dir, `${name}.list.json`);
  const out = join(dir, `${name}.out.json`);
  writeFileSync(list, JSON.stringify(specs));
  const args = [...launcher.args(preload), child, out, list];
  const env = { ...process.env, AIGUARD_MODE: "report", AIGUARD_SINKS: "memory" };
  return new Promise<Run>((resolve, reject) =>
    execFile(
      launcher.exec,
      args,
      { cwd: root, env, maxBuffer: 64 * 2 ** 20 },
      (error, _, stderr) => {
        if (error) return reject(new Error(`${name}: ${error.message}\n${stderr.slice(-2000)}`));
        resolve(JSON.parse(readFileSync(out, "utf8")));
      },
    )
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

/** What the matrix found: the loads, how many succeeded, and every difference the preload made. */
export interface MatrixResult {
  loads: number;
  loaded: number;
  guarded: boolean;
  unguarded: boolean;
  differences: string[];
}

/** Loads every spec without and with the preload (`chunks` children each) and compares. */
export async function importMatrix(
  launcher: Launcher,
  specs: readonly string[] = [...installedPackages(), ...SHAPES],
  chunks = 3,
): Promise<MatrixResult> {
  const slices = Array.from({ length: chunks }, (_, k) => specs.filter((_, i) => i % chunks === k));
  const dir = mkdtempSync(join(tmpdir(), "aiguard-matrix-"));
  try {
    const runs = await pool(
      slices.flatMap((slice, k) => [
        () => load(launcher, dir, `plain-${k}`, slice, false),
        () => load(launcher, dir, `preload-${k}`, slice, true),
      ]),
      4,
    );
    const plain = runs.filter((_, i) => i % 2 === 0);
    const withPreload = runs.filter((_, i) => i % 2 === 1);
    const before = plain.flatMap((run) => run.results);
    const after = withPreload.flatMap((run) => run.results);
    const differences = before.flatMap((was, i) => {
      const now = after[i];
      if (now === undefined || now.spec !== was.spec || now.via !== was.via) {
        return [`${was.spec} (${was.via}): not loaded with the preload`];
      }
      if (was.ok !== now.ok) {
        const state = (o: Outcome) => o.ok ? "loads" : o.error;
        return [`${was.spec} (${was.via}): ${state(was)} → ${state(now)}`];
      }
      if (was.ok && JSON.stringify(was.shape) !== JSON.stringify(now.shape)) {
        const lost = was.shape!.filter((s) => !now.shape!.includes(s));
        const gained = now.shape!.filter((s) => !was.shape!.includes(s));
        return [
          lost.length || gained.length
            ? `${was.spec} (${was.via}): exports -[${lost.join("; ")}] +[${gained.join("; ")}]`
            : `${was.spec} (${was.via}): the exports' key order differs`,
        ];
      }
      return [];
    });
    return {
      loads: before.length,
      loaded: before.filter((r) => r.ok).length,
      guarded: withPreload.every((run) => run.guarded),
      unguarded: plain.every((run) => !run.guarded),
      differences,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
