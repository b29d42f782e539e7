// The project's one entry for `npm test`, `npm run demo` and `npm run bench`. Every tool comes from
// node_modules/.bin (deno, bun, node 24, workerd through miniflare), so a fresh `npm ci` suffices.
import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
const RUNTIMES = ["deno", "bun", "node", "workerd"];

async function walk(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await walk(path));
    else out.push(path);
  }
  return out;
}

/** A test file may narrow its runtimes with a first-line comment: `// @runtimes deno bun node`. */
async function runtimesOf(file) {
  const first = (await readFile(file, "utf8")).split("\n", 1)[0];
  const match = /^\/\/ @runtimes (.+)$/.exec(first);
  return match ? match[1].trim().split(/\s+/) : RUNTIMES;
}

async function testFiles(runtime) {
  const all = (await walk(join(root, "tests"))).filter((f) => f.endsWith(".test.ts")).sort();
  const files = [];
  for (const file of all) {
    const rel = relative(root, file);
    const runtimeDir = /^tests\/runtime\/([^/]+)\//.exec(rel)?.[1];
    if (runtimeDir ? runtimeDir === runtime : (await runtimesOf(file)).includes(runtime)) {
      files.push(rel);
    }
  }
  return files;
}

function run(command, args, { env = {}, timeoutMs = 30 * 60_000 } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const onData = (stream) => (chunk) => {
      output += chunk;
      stream.write(chunk);
    };
    child.stdout.on("data", onData(process.stdout));
    child.stderr.on("data", onData(process.stderr));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output: output.replace(ANSI, "") });
    });
  });
}

/** Node's type stripping does not lower decorators: those files are transpiled first. */
async function nodeArgs(files) {
  const out = [];
  for (const file of files) {
    const source = await readFile(join(root, file), "utf8");
    if (!/^\s*@\w+\(/m.test(source)) {
      out.push(file);
      continue;
    }
    const outfile = join(root, ".tmp", "node", file.replace(/\.ts$/, ".mjs"));
    await build({
      entryPoints: [join(root, file)],
      bundle: true,
      packages: "external",
      format: "esm",
      platform: "node",
      target: "es2022",
      sourcemap: "inline",
      outfile,
      logLevel: "error",
    });
    out.push(relative(root, outfile));
  }
  return out;
}

// Each runner's own closing counts: [passed, failed].
const SUMMARY = {
  deno: /(\d+) passed[^|\n]*\| (\d+) failed/g,
  bun: /^\s*(\d+) pass\s*\n(?:\s*\d+ (?:skip|todo)\s*\n)*\s*(\d+) fail/gm,
  node: /ℹ pass (\d+)\s*\nℹ fail (\d+)/g,
  workerd: /workerd summary: (\d+) passed, (\d+) failed/g,
};

function counts(runtime, output) {
  const matches = [...output.matchAll(SUMMARY[runtime])];
  const last = matches.at(-1);
  if (!last) return null;
  return { passed: Number(last[1]), failed: Number(last[2]) };
}

async function runtimeTest(runtime, files) {
  const env = { AIGUARD_TEST_RUNTIME: runtime };
  switch (runtime) {
    case "deno":
      return run(bin("deno"), ["test", "-A", "--unstable-kv", "--no-check", ...files], { env });
    case "bun":
      return run(bin("bun"), ["test", "--timeout", "60000", ...files.map((f) => `./${f}`)], {
        env,
      });
    case "node":
      return run(bin("node"), [
        "--test",
        "--test-reporter=spec",
        "--test-concurrency=2",
        "--enable-source-maps",
        ...await nodeArgs(files),
      ], { env });
    case "workerd":
      return run(bin("node"), ["scripts/workerd_tests.mjs", ...files], { env });
  }
}

async function test(selected) {
  await rm(join(root, ".tmp"), { recursive: true, force: true });
  await mkdir(join(root, ".tmp"), { recursive: true });
  const totals = [];
  for (const runtime of selected) {
    const files = await testFiles(runtime);
    console.log(`\n=== ${runtime}: ${files.length} test files ===`);
    const started = Date.now();
    const { code, output } = await runtimeTest(runtime, files);
    let result = counts(runtime, output);
    if (!result) result = { passed: 0, failed: 1 };
    else if (code !== 0 && result.failed === 0) result.failed = 1; // the runner itself failed
    totals.push({ runtime, ...result, seconds: (Date.now() - started) / 1000 });
  }
  console.log("\n=== summary ===");
  for (const t of totals) {
    console.log(
      `${t.runtime.padEnd(8)} ${t.passed} passed, ${t.failed} failed (${t.seconds.toFixed(1)}s)`,
    );
  }
  const passed = totals.reduce((n, t) => n + t.passed, 0);
  const failed = totals.reduce((n, t) => n + t.failed, 0);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

const [command = "test", ...rest] = process.argv.slice(2);
if (command === "test") {
  const selected = rest.length ? rest.filter((r) => RUNTIMES.includes(r)) : RUNTIMES;
  await test(selected);
} else if (command === "demo") {
  const { code } = await run(bin("node"), ["examples/demo/main.ts", ...rest], {
    timeoutMs: 120_000,
  });
  process.exitCode = code ?? 1;
} else if (command === "bench") {
  const { code } = await run(bin("node"), ["bench/run.mjs", ...rest], { timeoutMs: 60 * 60_000 });
  process.exitCode = code ?? 1;
} else {
  console.error(`unknown command ${command}: use test [runtime...], demo or bench`);
  process.exitCode = 2;
}
