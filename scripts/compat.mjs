// Runs a peer project's own test suite without the guard and with the preload (report and block
// mode), and prints the per-test differences: the "do no harm" check on code nobody here wrote.
//
//   node scripts/compat.mjs <peer checkout> [--runner mocha|vitest|jest] [--modes report,block]
//                           [--node PATH] [--flag import,require] [--repeat N] [--requests]
//                           [--preload npm|source] [--linger S] [--api-port PORT]
//                           [-- <runner arguments>]
//
// The peer's dependencies must be installed (its own `npm install`). The preload, the npm build of
// this repo (built first; `--preload source` takes `auto.ts` as it is), reaches every Node
// process the suite starts through NODE_OPTIONS (`--import <build>/auto.js`, or
// `--require`; `--flag import,require` runs each mode under both); records go to a JSONL file per
// run, so a suite without AI calls must end with 0 records. The runner's arguments default to
// those of the first `mocha`/`vitest`/`jest` call in the peer's scripts.
//
// `--repeat N` runs the suite N times without the guard and N times per mode and flag, and sorts
// each difference: a test whose outcome varies without the guard is flaky on its own (listed
// apart, not counted); one that differs in every guarded run, or only in some, is counted.
// `--requests` also preloads a counter (before the guard) that notes every request to an AI
// endpoint the suite sends through Node's transports (undici/fetch, node:http(s), node:http2), as
// the runtime reports it on its diagnostics channels, with the test file that sent it; the
// summary gives, per test file, those requests beside the guard's records, and, per block run,
// each test that sent AI requests without the guard with its outcome both ways.
// A run ends `--linger` seconds (60) after its runner's report is whole even if the runner waits
// on (mocha without `--exit` keeps waiting for a server a failed test left listening); its process
// group is ended with it. `--api-port PORT` answers every request on 127.0.0.1:PORT with `200 {}`
// for the whole comparison: a suite written against a mock of its API there (the Anthropic SDK's
// spec mock, which fetches the spec from the network) then sends its AI requests to a server that
// answers, so block mode's refusals show as changed outcomes.
// Exit 0 when no test changed outcome (flaky ones aside), 1 otherwise, 2 on a usage error.
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dirname, "..");
const RUNNERS = {
  mocha: { args: (out) => ["--reporter", "json", "--reporter-option", `output=${out}`] },
  vitest: { args: (out) => ["--reporter=json", `--outputFile=${out}`], first: ["run"] },
  jest: { args: (out) => ["--json", `--outputFile=${out}`] },
};
const USAGE =
  "usage: node scripts/compat.mjs <peer checkout> [--runner mocha|vitest|jest] [--modes report,block] [--node PATH] [--flag import,require] [--repeat N] [--requests] [--preload npm|source] [--linger S] [--api-port PORT] [-- <runner arguments>]";

/** The runner's executable script, as its package.json names it. */
function runnerBin(name) {
  const dir = join(peer, "node_modules", name);
  const { bin } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  return join(dir, typeof bin === "string" ? bin : bin[name]);
}

function usage(message) {
  console.error(`compat: ${message}`);
  console.error(USAGE);
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
        repeat: { type: "string", default: "1" },
        requests: { type: "boolean", default: false },
        // What is preloaded: the npm build, as users install it on Node (default), or the
        // TypeScript source, which Node type-strips in every process the suite starts.
        preload: { type: "string", default: "npm" },
        // Seconds a runner may go on after its report is whole before its process group is ended.
        linger: { type: "string", default: "60" },
        // A loopback port where a catch-all API answers every request `200 {}` during the runs, for
        // suites that expect their API's mock server there (one that cannot be installed here).
        "api-port": { type: "string" },
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
const flags = values.flag.split(",").filter(Boolean);
for (const flag of flags) {
  if (flag !== "import" && flag !== "require") usage(`unknown --flag ${flag}`);
}
const modes = values.modes.split(",").filter(Boolean);
for (const mode of modes) {
  if (!["warn", "report", "block"].includes(mode)) usage(`unknown mode ${mode}`);
}
if (values.preload !== "npm" && values.preload !== "source") {
  usage(`--preload wants npm or source`);
}
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) usage(`--repeat wants a positive integer`);
const linger = Number(values.linger);
if (!(linger >= 0)) usage(`--linger wants a number of seconds`);
const apiPort = values["api-port"] === undefined ? null : Number(values["api-port"]);
if (apiPort !== null && !(Number.isInteger(apiPort) && apiPort > 0 && apiPort < 65536)) {
  usage(`--api-port wants a port number`);
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

// The request counter, preloaded before the guard so it sees each request as the runtime creates
// it. It classifies with the guard's own URL matcher (the question is whether the guard records
// each AI request once, not whether it knows the providers), and writes no query string.
const counterSource = (providers) => `
import { subscribe } from "node:diagnostics_channel";
import { appendFileSync } from "node:fs";
import vm from "node:vm";
import { matchUrl } from ${JSON.stringify(pathToFileURL(providers).href)};
const out = process.env.AIGUARD_COMPAT_REQUESTS;
// jest runs each test file in a vm context of its own, where its \`expect\` knows the running test;
// a worker runs one file at a time, so the newest context is the running file's.
let jestContext = null;
const createContext = vm.createContext;
vm.createContext = function (...args) {
  return (jestContext = createContext.apply(this, args));
};
function jestTest() {
  const state = jestContext?.expect?.getState?.();
  return state?.testPath ? { file: state.testPath, test: state.currentTestName ?? null } : null;
}
function note(layer, url) {
  try {
    const match = matchUrl(url, []);
    // Other traffic is counted only (how much non-AI traffic the suite sent), never described.
    if (!match) return void appendFileSync(out, JSON.stringify({ pid: process.pid, layer, ai: false }) + "\\n");
    // vitest's worker state names the test file and the running test, jest's \`expect\` state the
    // same; other runners: the pid.
    const state = globalThis.__vitest_worker__;
    const names = [];
    for (let task = state?.current; task && !("filepath" in task); task = task.suite) names.unshift(task.name);
    const jest = state ? null : jestTest();
    const line = { pid: process.pid, file: state?.filepath ?? jest?.file ?? null, test: names.join(" ") || jest?.test || null, layer, provider: match.provider, server: match.server, path: match.path.split("?")[0] };
    appendFileSync(out, JSON.stringify(line) + "\\n");
  } catch {}
}
subscribe("undici:request:create", ({ request }) => {
  if (typeof request?.origin === "string") note("undici", request.origin + request.path);
});
subscribe("http.client.request.created", ({ request }) => {
  const protocol = request.protocol ?? request.agent?.protocol ?? "http:";
  note("http", protocol + "//" + request.host + request.path);
});
subscribe("http2.client.stream.created", ({ stream, headers }) => {
  const h = headers ?? stream?.sentHeaders ?? {};
  note("http2", (h[":scheme"] ?? "https") + "://" + h[":authority"] + h[":path"]);
});
`;

function run({ mode, flag, round }, dir) {
  const tag = `${mode}${flag ? `-${flag}` : ""}-${round}`;
  const out = join(dir, `${tag}.json`);
  const report = join(dir, `${tag}.jsonl`);
  const requests = join(dir, `${tag}.requests.jsonl`);
  // The suite's own `node` calls (scripts, child processes) run on the same Node as its runner.
  const path = [dirname(values.node), process.env.PATH].filter(Boolean).join(delimiter);
  const env = { ...process.env, PATH: path, CI: "1", NO_COLOR: "1" };
  const options = [process.env.NODE_OPTIONS];
  if (values.requests) {
    const counter = join(dir, "request_counter.mjs");
    if (!existsSync(counter)) {
      writeFileSync(counter, counterSource(matcher));
    }
    options.push(`--import=${counter}`);
    env.AIGUARD_COMPAT_REQUESTS = requests;
  }
  if (mode !== "off") {
    options.push(`--${flag}=${preloadEntry}`);
    Object.assign(env, { AIGUARD_MODE: mode, AIGUARD_SINKS: "file", AIGUARD_REPORT_PATH: report });
  }
  env.NODE_OPTIONS = options.filter(Boolean).join(" ");
  if (mode !== "off" && !guardIsLive(env)) {
    // `node scripts/run.mjs test` clears .tmp, where the build lives: seen as a guard that is gone.
    const gone = existsSync(preloadEntry) ? "" : `: ${preloadEntry} is gone (was .tmp cleared?)`;
    console.error(`the preload did not start a guard in ${mode} mode (--${flag})${gone}`);
    process.exit(2);
  }
  const { first = [], args: reporter } = RUNNERS[runner];
  const args = [runnerBin(runner), ...first, ...runnerArgs, ...reporter(out)];
  const started = performance.now();
  return new Promise((done) => {
    // A process group of its own: what the suite leaves running is ended with it.
    const child = spawn(values.node, args, {
      cwd: peer,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-4000)));
    const outcomesNow = () => {
      try {
        // mocha < 9 has no `output` option: its JSON is the last thing on stdout
        const text = existsSync(out)
          ? readFileSync(out, "utf8")
          : stdout.slice(stdout.lastIndexOf('{\n  "stats"'));
        return parseOutcomes(JSON.parse(text));
      } catch {
        return null; // no report (yet): the suite did not start or has not ended
      }
    };
    const killGroup = () => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // the group is gone already
      }
    };
    // A runner that keeps waiting for a handle a failed test left open (mocha without `--exit`)
    // has still written its report: the run ends `--linger` seconds after the report is whole.
    let lingered = null;
    let reportedAt = null;
    const watch = setInterval(() => {
      if (reportedAt === null && outcomesNow() !== null) reportedAt = performance.now();
      if (reportedAt !== null && performance.now() - reportedAt >= linger * 1000) {
        lingered = linger;
        killGroup();
      }
    }, 1000);
    child.on("close", (code, signal) => {
      clearInterval(watch);
      killGroup();
      const seconds = (performance.now() - started) / 1000;
      const outcomes = outcomesNow();
      const records = readLines(report).filter((r) => r.event === "ai_call");
      const all = readLines(requests);
      const sent = all.filter((s) => s.ai !== false);
      const other = all.length - sent.length;
      done({
        mode,
        flag,
        round,
        code: code ?? signal,
        seconds,
        outcomes,
        records,
        sent,
        other,
        stderr,
        lingered,
      });
    });
  });
}

function readLines(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").flatMap((line) => {
    try {
      return line ? [JSON.parse(line)] : [];
    } catch {
      return []; // a line torn by a killed process
    }
  });
}

/** Whether a Node process started with this environment has a live guard (the preload ran). */
function guardIsLive(env) {
  const probe = 'process.exit(globalThis[Symbol.for("@aiguard/attest.registry")]?.owner ? 0 : 1)';
  return spawnSync(values.node, ["-e", probe], { cwd: peer, env }).status === 0;
}

// Terminal colour codes (ESC [ … m), built from a string: a control character in a regex literal is a lint error.
const COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** The first line of a failure, to tell a guard's harm from a timeout at a glance. */
function firstLine(message) {
  const text = String(message ?? "").replace(COLOUR, "");
  return text.split("\n").find((line) => line.trim())?.trim().slice(0, 160) ?? "";
}

/** One outcome per test: `file › full title` → { status: passed | failed | skipped, why }. */
function parseOutcomes(json) {
  const outcomes = new Map();
  const name = (file, title) => `${relative(peer, file ?? "")} › ${title}`;
  if (runner === "mocha") {
    for (const t of json.passes ?? []) {
      outcomes.set(name(t.file, t.fullTitle), { status: "passed" });
    }
    for (const t of json.pending ?? []) {
      outcomes.set(name(t.file, t.fullTitle), { status: "skipped" });
    }
    for (const t of json.failures ?? []) {
      outcomes.set(name(t.file, t.fullTitle), { status: "failed", why: firstLine(t.err?.message) });
    }
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
      const why = status === "failed" ? firstLine(t.failureMessages?.[0]) : undefined;
      outcomes.set(name(file.name ?? file.testFilePath, title), { status, why });
    }
    if ((file.assertionResults ?? []).length === 0 && file.status === "failed") {
      outcomes.set(name(file.name, "(the file failed to load)"), {
        status: "failed",
        why: firstLine(file.message),
      });
    }
  }
  return outcomes;
}

function count(outcomes, status) {
  return [...outcomes.values()].filter((o) => o.status === status).length;
}

/** The test file a record came from: the first stack frame in a test file, else its process's. */
function recordFile(record, fileOfPid) {
  for (const frame of record.stack ?? [record.call_site]) {
    const file = /^(.*?):\d+:\d+$/.exec(frame ?? "")?.[1];
    if (file && /\.(?:test|spec)\.[cm]?[jt]sx?$/.test(file)) return file;
  }
  return fileOfPid.get(record.pid) ?? "(no test file on its stack)";
}

/** Per test file: AI requests the runtime sent, and the guard's records, in one guarded run. */
function requestsByFile(r) {
  const rows = new Map();
  const row = (file) => {
    if (!rows.has(file)) {
      rows.set(file, { requests: 0, records: 0, layers: new Map(), detectors: new Map() });
    }
    return rows.get(file);
  };
  const filesOfPid = new Map();
  for (const s of r.sent) {
    const file = s.file ? relative(peer, s.file) : `(pid ${s.pid})`;
    if (!filesOfPid.has(s.pid)) filesOfPid.set(s.pid, new Set());
    filesOfPid.get(s.pid).add(file);
    const entry = row(file);
    entry.requests++;
    entry.layers.set(s.layer, (entry.layers.get(s.layer) ?? 0) + 1);
  }
  // A process that sent requests for one test file only: its records without a test frame are that file's.
  const fileOfPid = new Map();
  for (const [pid, files] of filesOfPid) if (files.size === 1) fileOfPid.set(pid, [...files][0]);
  for (const record of r.records) {
    const entry = row(recordFile(record, fileOfPid));
    entry.records++;
    entry.detectors.set(record.detector, (entry.detectors.get(record.detector) ?? 0) + 1);
  }
  return rows;
}

const dir = mkdtempSync(join(tmpdir(), "aiguard-compat-"));
// Under the repo, so the build finds its optional dependencies as an installed package would.
const npmDir = join(root, ".tmp", `compat-npm-${process.pid}`);
// process.exit() skips `finally`: the exit code is set, and the directories removed on the way out.
process.on("exit", () => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(npmDir, { recursive: true, force: true });
});
// Node type-strips the TypeScript source in every process that preloads it: ~0.2 s of CPU each
// (measured: `node -e 0` 0.29 s user with auto.ts, 0.09 s with the build, 0.01 s bare), which
// slows every Node process a suite spawns, unlike the JavaScript users install from npm.
let preloadEntry = join(root, "auto.ts");
if (values.preload === "npm") {
  const { buildNpm } = await import("./build_npm.mjs");
  await buildNpm(npmDir);
  preloadEntry = join(npmDir, "auto.js");
}
// The counter's URL matcher, built on its own: it costs the suite no type-stripping, whichever
// preload runs.
const matcher = join(dir, "providers.mjs");
if (values.requests) {
  const { build } = await import("esbuild");
  await build({
    entryPoints: [join(root, "src/detect/providers.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    outfile: matcher,
    logLevel: "error",
  });
}
// The peer's commit, when it is a git checkout.
const head = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: peer, encoding: "utf8" })
  .stdout?.trim() ?? "";
const nodeVersion = spawnSync(values.node, ["--version"], { encoding: "utf8" }).stdout.trim();
console.log(
  `${pkg.name}@${pkg.version} ${head} — ${runner} ${runnerArgs.join(" ")} — Node ${nodeVersion}`,
);

if (apiPort !== null) {
  const api = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise((listening, failed) => {
    api.once("error", failed).listen(apiPort, "127.0.0.1", listening);
  });
  api.unref();
}

// Runs alternate (off, each guarded configuration, off, …) so a change in the machine's load
// falls on every configuration alike.
const configs = modes.flatMap((mode) => flags.map((flag) => ({ mode, flag })));
const results = [];
for (let round = 1; round <= repeat; round++) {
  const baseline = await run({ mode: "off", flag: null, round }, dir);
  if (!baseline.outcomes) {
    console.error(
      `the suite did not run without the guard (exit ${baseline.code}):\n${baseline.stderr}`,
    );
    process.exit(2);
  }
  results.push(baseline);
  for (const config of configs) results.push(await run({ ...config, round }, dir));
}
const baselines = results.filter((r) => r.mode === "off");
const label = (r) => r.mode === "off" ? `without the guard` : `preload --${r.flag}, ${r.mode}`;

// With --requests: what the suite sent through Node's transports, AI requests and other ones.
const traffic = (r) => values.requests ? ` ${r.sent.length} / ${r.other} |` : "";
console.log(
  `\n| run | # | tests | passed | failed | skipped | ai_call records |${
    values.requests ? " requests sent: AI / other |" : ""
  } s |`,
);
console.log(`|---|---|---|---|---|---|---|${values.requests ? "---|" : ""}---|`);
for (const r of results) {
  const o = r.outcomes;
  console.log(
    o
      ? `| ${label(r)} | ${r.round} | ${o.size} | ${count(o, "passed")} | ${count(o, "failed")} | ${
        count(o, "skipped")
      } | ${r.mode === "off" ? "—" : r.records.length} |${traffic(r)} ${r.seconds.toFixed(0)} |`
      : `| ${label(r)} | ${r.round} | did not run (exit ${r.code}) | | | | |${traffic(r)} ${
        r.seconds.toFixed(0)
      } |`,
  );
}

// Every test any run knows, with its outcome in each run (`missing` where a run lacks it).
const tests = new Set(results.flatMap((r) => (r.outcomes ? [...r.outcomes.keys()] : [])));
const statusIn = (r, test) => r.outcomes?.get(test)?.status ?? "missing";
const flaky = [...tests].filter((t) => new Set(baselines.map((b) => statusIn(b, t))).size > 1);
const flakySet = new Set(flaky);
// With --requests: the tests that send AI requests without the guard, which block mode refuses.
// Per test: the most AI requests it sent in one unguarded run.
const aiTests = new Map();
for (const b of baselines) {
  const sentBy = new Map();
  for (const s of b.sent) {
    if (!s.file || !s.test) continue;
    const test = `${relative(peer, s.file)} › ${s.test}`;
    sentBy.set(test, (sentBy.get(test) ?? 0) + 1);
  }
  for (const [test, n] of sentBy) aiTests.set(test, Math.max(aiTests.get(test) ?? 0, n));
}
let different = false;
const details = [];
console.log(
  `\n| configuration | differs in every run | differs in some runs | of them: block refusing a test's AI requests | flaky without the guard (not counted) |`,
);
console.log("|---|---|---|---|---|");
for (const config of configs) {
  const runs = results.filter((r) => r.mode === config.mode && r.flag === config.flag);
  const always = [];
  const sometimes = [];
  const refused = [];
  for (const test of tests) {
    if (flakySet.has(test)) continue;
    const was = statusIn(baselines[0], test);
    const now = runs.map((r) => statusIn(r, test));
    const changed = now.filter((s) => s !== was).length;
    if (changed === 0) continue;
    const why = runs.map((r) => r.outcomes?.get(test)?.why).find(Boolean);
    const sends = aiTests.get(test);
    const line = `${config.mode} --${config.flag}: ${test}: ${was} → ${now.join("/")}${
      why ? ` (${why})` : ""
    }${sends ? ` [sends ${sends} AI request(s) without the guard]` : ""}`;
    (changed === runs.length ? always : sometimes).push(line);
    if (sends && config.mode === "block" && was === "passed") refused.push(test);
  }
  for (const r of runs) {
    if (!r.outcomes) details.push(`${label(r)} #${r.round}: the suite did not start:\n${r.stderr}`);
  }
  // Block mode refusing a test's AI calls is what it is for: not a difference that fails the run.
  if (always.length + sometimes.length > refused.length || runs.some((r) => !r.outcomes)) {
    different = true;
  }
  details.push(...always, ...sometimes);
  console.log(
    `| preload --${config.flag}, ${config.mode} | ${always.length} | ${sometimes.length} | ${refused.length} | ${flaky.length} |`,
  );
}
if (values.requests) {
  console.log(
    "\n| run | test file | AI requests sent (layer) | ai_call records (detector) | without the guard |",
  );
  console.log("|---|---|---|---|---|");
  const offRows = requestsByFile(baselines[0]);
  for (const r of results.filter((r) => r.mode !== "off")) {
    const rows = requestsByFile(r);
    for (const [file, row] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
      const layers = [...row.layers].map(([layer, n]) => `${layer} ${n}`).join(", ");
      const detectors = [...row.detectors].map(([name, n]) => `${name} ${n}`).join(", ");
      console.log(
        `| ${label(r)} #${r.round} | ${file} | ${row.requests}${
          layers ? ` (${layers})` : ""
        } | ${row.records}${detectors ? ` (${detectors})` : ""} | ${
          offRows.get(file)?.requests ?? 0
        } |`,
      );
    }
    const sent = r.sent.length;
    console.log(
      `| ${label(r)} #${r.round} | all | ${sent} | ${r.records.length} | ${
        baselines[0].sent.length
      } |`,
    );
  }
}
// Block mode refuses the AI requests of tests that make them unattested: each such test, with what
// it sent without the guard and its outcome both ways (`why` says whether the guard refused it).
for (const config of values.requests ? configs.filter((c) => c.mode === "block") : []) {
  const runs = results.filter((r) => r.mode === config.mode && r.flag === config.flag);
  const unnamed = baselines[0].sent.filter((s) => !s.file || !s.test).length;
  if (aiTests.size + unnamed === 0) continue;
  console.log(
    `\npreload --${config.flag}, block: the ${aiTests.size} tests that sent AI requests without the guard (${
      baselines[0].sent.length
    } requests in its first run${unnamed ? `, ${unnamed} of them outside a named test` : ""})`,
  );
  console.log(
    "\n| test | AI requests without the guard | without the guard | block | why, in block |",
  );
  console.log("|---|---|---|---|---|");
  for (const [test, n] of [...aiTests].sort(([a], [b]) => a.localeCompare(b))) {
    const why = runs.map((r) => r.outcomes?.get(test)?.why).find(Boolean) ?? "";
    console.log(
      `| ${test} | ${n} | ${statusIn(baselines[0], test)} | ${
        runs.map((r) => statusIn(r, test)).join("/")
      } | ${why.replaceAll("|", "\\|")} |`,
    );
  }
}
for (const r of results) {
  if (r.lingered !== null) {
    details.push(
      `${
        label(r)
      } #${r.round}: the runner had not exited ${r.lingered} s after its report; its process group was ended`,
    );
  }
}
if (details.length) console.log(`\n${details.join("\n")}`);
if (flaky.length) {
  console.log(`\nflaky without the guard (${baselines.length} runs):`);
  for (const test of flaky) {
    console.log(`  ${test}: ${baselines.map((b) => statusIn(b, test)).join("/")}`);
  }
}
process.exit(different ? 1 : 0);
