// @runtimes deno bun node
/**
 * The CLI reads the same configuration as the guard (issue 21.7: flags > AIGUARD_* >
 * aiguard.jsonc > defaults) and every backup there is (issue 21.4).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { appendFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../cli.ts";
import { createNodeFsStorage } from "../src/storage/node_fs.ts";
import { cliIn } from "./support/cli_in.ts";
import { recordJson } from "./support/fixtures.ts";
import { runtimeCommand } from "./support/runtime_command.ts";

const CHILD = fileURLToPath(new URL("./support/guarded_child.ts", import.meta.url));
const VARS = ["AIGUARD_REPORT_PATH", "AIGUARD_CONFIG", "AIGUARD_MODE", "AIGUARD_BACKUPS"];

let dir: string;
const saved: Record<string, string | undefined> = {};
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "aiguard-settings-"));
  for (const name of VARS) {
    saved[name] = process.env[name];
    delete process.env[name];
  }
});
after(async () => {
  for (const name of VARS) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  await rm(dir, { recursive: true, force: true });
});

test("the guard writes to reportPath from aiguard.jsonc; check, report, verify, coverage and tail find it there", async () => {
  const project = join(dir, "project");
  await mkdir(project);
  await writeFile(
    join(project, "aiguard.jsonc"),
    '// the project\'s settings\n{ "mode": "report", "reportPath": "./reports/ai.jsonl", "socketPath": "./none.sock" }\n',
  );
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("AIGUARD_")) env[k] = v;
  }
  const [cmd, args] = runtimeCommand(CHILD, []);
  await new Promise<void>((resolve, reject) =>
    execFile(cmd, args, {
      cwd: project,
      env: { ...env, HOME: join(dir, "home"), AIGUARD_CHILD_CALLS: "3" },
    }, (error, _out, stderr) => (error ? reject(new Error(stderr)) : resolve()))
  );
  assert.deepEqual(await readdir(join(project, "reports")), ["ai.jsonl"]);
  const check = await cliIn(project, "check");
  assert.equal(check.code, 1, check.err);
  assert.match(check.out, /3 unattested AI calls at 1 call site/);
  const report = await cliIn(project, "report", "--format", "json");
  assert.equal(report.code, 0, report.err);
  assert.equal(JSON.parse(report.out).calls, 3);
  const verify = await cliIn(project, "verify");
  assert.equal(verify.code, 0, verify.out);
  assert.match(verify.out, /intact, 4 chained lines/, "the chain_start head line and 3 records");
  const coverage = await cliIn(project, "coverage", "--format", "json", ".");
  assert.equal(coverage.code, 0, coverage.err);
  assert.equal(
    JSON.parse(coverage.out).sites.reduce(
      (n: number, s: { runtime: { count: number } | null }) => n + (s.runtime?.count ?? 0),
      0,
    ),
    3,
  );
  // tail follows the same file: a record appended after it starts is printed.
  const cwd = process.cwd();
  process.chdir(project);
  let out = "";
  const stop = new AbortController();
  try {
    const tailing = main(["tail", "--poll-ms", "20"], {
      out: (t) => (out += t),
      err: (t) => (out += t),
    }, stop.signal);
    await new Promise((r) => setTimeout(r, 200));
    await appendFile(
      join(project, "reports", "ai.jsonl"),
      recordJson({ call_site: "src/tailed.ts:1:1" }) + "\n",
    );
    for (let i = 0; i < 100 && !out.includes("src/tailed.ts"); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    stop.abort();
    assert.equal(await tailing, 0);
  } finally {
    process.chdir(cwd);
  }
  assert.match(out, /UNATTESTED\s+openai chat gpt-4o\s+src\/tailed\.ts:1:1/);
});

test("precedence for the CLI: --file > AIGUARD_REPORT_PATH > aiguard.jsonc", async () => {
  const project = join(dir, "precedence");
  await mkdir(project);
  const at = (name: string, site: string) =>
    writeFile(join(project, name), recordJson({ call_site: site }) + "\n");
  await at("from-file.jsonl", "src/file.ts:1:1");
  await at("from-env.jsonl", "src/env.ts:1:1");
  await at("from-flag.jsonl", "src/flag.ts:1:1");
  await writeFile(join(project, "aiguard.jsonc"), '{ "reportPath": "from-file.jsonl" }');
  assert.match((await cliIn(project, "check")).out, /src\/file\.ts/);
  process.env.AIGUARD_REPORT_PATH = "from-env.jsonl";
  try {
    assert.match((await cliIn(project, "check")).out, /src\/env\.ts/);
    assert.match((await cliIn(project, "check", "--file", "from-flag.jsonl")).out, /src\/flag\.ts/);
  } finally {
    delete process.env.AIGUARD_REPORT_PATH;
  }
});

test("a bad aiguard.jsonc stops the CLI with exit 2 and one line naming the file and the key", async () => {
  const project = join(dir, "bad-config");
  await mkdir(project);
  await writeFile(join(project, "aiguard.jsonc"), '{ "backups": "many" }');
  const run = await cliIn(project, "check");
  assert.equal(run.code, 2);
  assert.match(
    run.err,
    /^aiguard check: Invalid aiguard option "backups" in .*aiguard\.jsonc: expected an integer ≥ 0, got "many"\.\n$/,
  );
});

test("backups: 20 and 30 calls: report, check and verify read every backup there is", async () => {
  const path = join(dir, "many", "guard_log.jsonl");
  // About two records a file: 30 calls rotate through 15 files, more than the 9 once read.
  const storage = createNodeFsStorage({ path, maxBytes: 1400, backups: 20 });
  for (let i = 0; i < 30; i++) {
    await storage.append(recordJson({ call_site: `src/call${i}.ts:1:1` }) + "\n");
  }
  await storage.close?.();
  const files = await readdir(join(dir, "many"));
  assert.ok(files.length > 11, `${files.length} files`);
  assert.ok(files.includes("guard_log.10.jsonl"));
  const run = (...argv: string[]) => cliIn(dir, ...argv, "--file", path);
  const report = await run("report", "--format", "json");
  assert.equal(JSON.parse(report.out).calls, 30);
  const check = await run("check");
  assert.equal(check.code, 1);
  assert.match(check.out, /30 unattested AI calls at 30 call sites/);
  const verify = await run("verify");
  assert.equal(verify.code, 0, verify.out);
  assert.match(
    verify.out,
    new RegExp(`intact, \\d+ chained lines, seq 1–\\d+ in ${files.length} files`),
  );
});

test("an unattested call only in guard_log.10.jsonl fails check", async () => {
  const sub = join(dir, "ten");
  await mkdir(sub);
  await writeFile(
    join(sub, "guard_log.jsonl"),
    recordJson({ attested: true, action: "allowed" }) + "\n",
  );
  await writeFile(
    join(sub, "guard_log.10.jsonl"),
    recordJson({ call_site: "src/old.ts:9:9" }) + "\n",
  );
  const check = await cliIn(sub, "check", "--file", join(sub, "guard_log.jsonl"));
  assert.equal(check.code, 1);
  assert.match(check.out, /src\/old\.ts:9:9/);
});
