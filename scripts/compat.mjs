// Runs a peer project's own test suite without the guard and with the preload (report and block
// mode), and prints the per-test differences: the "do no harm" check on code nobody here wrote.
//
//   node scripts/compat.mjs <peer checkout> [--runner mocha|vitest|jest] [--modes report,block]
//                           [--node PATH] [--flag import|require] [-- <runner arguments>]
//
// The peer's dependencies must be installed (its own `npm install`). The preload reaches every
// Node process the suite starts through NODE_OPTIONS (`--import <this repo>/auto.ts`); records go
// to a JSONL file per mode, so a suite without AI calls must end with 0 records. The runner's
// arguments default to those of the first `mocha`/`vitest`/`jest` call in the peer's scripts.
// Exit 0 when no test changed outcome, 1 otherwise, 2 on a usage error.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dirname, "..");
const RUNNERS = {
  mocha: { args: (out) => ["--reporter", "json", "--reporter-option", `output=${out}`] },
  vitest: { args: (out) => ["--reporter=json", `--outputFile=${out}`], first: ["run"] },
  jest: { args: (out) => ["--json", `--outputFile=${out}`] },
};

/** The runner's executable script, as its package.json names it. */
function runnerBin(name) {
  const dir = join(peer, "node_modules", name);
  const { bin } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  return join(dir, typeof bin === "string" ? bin : bin[name]);
}

function usage(message) {
  console.error(`compat: ${message}`);
  console.error(
    "usage: node scripts/compat.mjs <peer checkout> [--runner mocha|vitest|jest] [--modes report,block] [--node PATH] [--flag import|require] [-- <runner arguments>]",
  );
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        runner: { type: "string" },
        modes: { type: "string", default: "report,block" },
        node: { type: "string", default: process.execPath },
        // `--import` (the documented flag) or `--require`: any --import makes Node run the main
        // module through its ESM loader, which a runner calling Module.runMain (ts-node) breaks on.
        flag: { type: "string", default: "import" },
      },
    });
  } catch (error) {
    return usage(error.message);
  }
})();
const [peerArg, ...extra] = positionals;
if (!peerArg) usage("name a peer checkout");
const peer = resolve(peerArg);
if (!existsSync(join(peer, "package.json"))) usage(`${peer} has no package.json`);
const pkg = JSON.parse(readFileSync(join(peer, "package.json"), "utf8"));
const deps = { ...pkg.dependencies, ...pkg.devDependencies };
const runner = values.runner ?? Object.keys(RUNNERS).find((name) => name in deps);
if (!runner || !(runner in RUNNERS)) usage("no mocha, vitest or jest in the peer: pass --runner");
if (values.flag !== "import" && values.flag !== "require") usage(`unknown --flag ${values.flag}`);
const modes = values.modes.split(",").filter(Boolean);
for (const mode of modes) {
  if (!["warn", "report", "block"].includes(mode)) usage(`unknown mode ${mode}`);
}

/** The runner's arguments in the peer's own scripts: what follows the first call of it. */
function scriptArgs() {
  for (const script of Object.values(pkg.scripts ?? {})) {
    const match = new RegExp(`(?:^|[\\s/])${runner}(?:\\s+run)?\\s+([^&|;]*)`).exec(script);
    if (match) return match[1].trim().split(/\s+/).filter(Boolean);
  }
  return [];
}
const runnerArgs = extra.length ? extra : scriptArgs();

function run(mode, dir) {
  const out = join(dir, `${mode}.json`);
  const report = join(dir, `${mode}.jsonl`);
  // The suite's own `node` calls (scripts, child processes) run on the same Node as its runner.
  const path = [dirname(values.node), process.env.PATH].filter(Boolean).join(delimiter);
  const env = { ...process.env, PATH: path, CI: "1", NO_COLOR: "1" };
  if (mode !== "off") {
    const preload = `--${values.flag}=${join(root, "auto.ts")}`;
    env.NODE_OPTIONS = [process.env.NODE_OPTIONS, preload].filter(Boolean).join(" ");
    Object.assign(env, { AIGUARD_MODE: mode, AIGUARD_SINKS: "file", AIGUARD_REPORT_PATH: report });
  }
  if (mode !== "off" && !guardIsLive(env)) {
    console.error(`the preload did not start a guard in ${mode} mode`);
    process.exit(2);
  }
  const { first = [], args: reporter } = RUNNERS[runner];
  const args = [runnerBin(runner), ...first, ...runnerArgs, ...reporter(out)];
  const started = performance.now();
  return new Promise((done) => {
    const child = spawn(values.node, args, { cwd: peer, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-4000)));
    child.on("close", (code) => {
      const seconds = (performance.now() - started) / 1000;
      let outcomes = null;
      try {
        // mocha < 9 has no `output` option: its JSON is the last thing on stdout
        const text = existsSync(out)
          ? readFileSync(out, "utf8")
          : stdout.slice(stdout.lastIndexOf('{\n  "stats"'));
        outcomes = parseOutcomes(JSON.parse(text));
      } catch {
        // no report: the suite did not start (its stderr says why)
      }
      const records = existsSync(report)
        ? readFileSync(report, "utf8").split("\n").filter((l) => l.includes('"ai_call"')).length
        : 0;
      done({ mode, code, seconds, outcomes, records, stderr });
    });
  });
}

/** Whether a Node process started with this environment has a live guard (the preload ran). */
function guardIsLive(env) {
  const probe = 'process.exit(globalThis[Symbol.for("@aiguard/attest.registry")]?.owner ? 0 : 1)';
  return spawnSync(values.node, ["-e", probe], { cwd: peer, env }).status === 0;
}

/** One outcome per test: `file › full title` → passed | failed | skipped. */
function parseOutcomes(json) {
  const outcomes = new Map();
  const name = (file, title) => `${relative(peer, file ?? "")} › ${title}`;
  if (runner === "mocha") {
    for (const t of json.passes ?? []) outcomes.set(name(t.file, t.fullTitle), "passed");
    for (const t of json.pending ?? []) outcomes.set(name(t.file, t.fullTitle), "skipped");
    for (const t of json.failures ?? []) outcomes.set(name(t.file, t.fullTitle), "failed");
    return outcomes;
  }
  for (const file of json.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      const title = t.fullName ?? [...(t.ancestorTitles ?? []), t.title].join(" ");
      const status = t.status === "passed"
        ? "passed"
        : t.status === "failed"
        ? "failed"
        : "skipped";
      outcomes.set(name(file.name ?? file.testFilePath, title), status);
    }
    if ((file.assertionResults ?? []).length === 0 && file.status === "failed") {
      outcomes.set(name(file.name, "(the file failed to load)"), "failed");
    }
  }
  return outcomes;
}

function count(outcomes, status) {
  return [...outcomes.values()].filter((s) => s === status).length;
}

const dir = mkdtempSync(join(tmpdir(), "aiguard-compat-"));
// process.exit() skips `finally`: the exit code is set, and the directory removed on the way out.
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const head = (() => {
  try {
    return readFileSync(join(peer, ".git", "HEAD"), "utf8").trim();
  } catch {
    return "";
  }
})();
console.log(`${pkg.name}@${pkg.version} ${head} — ${runner} ${runnerArgs.join(" ")}`);
const baseline = await run("off", dir);
if (!baseline.outcomes) {
  console.error(
    `the suite did not run without the guard (exit ${baseline.code}):\n${baseline.stderr}`,
  );
  process.exit(2);
}
const results = [baseline];
for (const mode of modes) results.push(await run(mode, dir));
console.log("\n| run | tests | passed | failed | skipped | differences | ai_call records | s |");
console.log("|---|---|---|---|---|---|---|---|");
let different = false;
const details = [];
for (const r of results) {
  if (!r.outcomes) {
    different = true;
    console.log(
      `| ${r.mode} | did not run (exit ${r.code}) | | | | | | ${r.seconds.toFixed(0)} |`,
    );
    details.push(`${r.mode}: the suite did not start:\n${r.stderr}`);
    continue;
  }
  const diffs = [];
  for (const [test, was] of baseline.outcomes) {
    const now = r.outcomes.get(test) ?? "missing";
    if (now !== was) diffs.push(`${r.mode}: ${test}: ${was} → ${now}`);
  }
  for (const test of r.outcomes.keys()) {
    if (!baseline.outcomes.has(test)) {
      diffs.push(`${r.mode}: ${test}: new → ${r.outcomes.get(test)}`);
    }
  }
  if (diffs.length) different = true;
  details.push(...diffs);
  const o = r.outcomes;
  console.log(
    `| ${r.mode === "off" ? "without the guard" : `preload, ${r.mode}`} | ${o.size} | ${
      count(o, "passed")
    } | ${count(o, "failed")} | ${count(o, "skipped")} | ${r === baseline ? "—" : diffs.length} | ${
      r === baseline ? "—" : r.records
    } | ${r.seconds.toFixed(0)} |`,
  );
}
if (details.length) console.log(`\n${details.join("\n")}`);
process.exit(different ? 1 : 0);
