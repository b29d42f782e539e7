// @runtimes deno bun node
/**
 * The hostile-input suite of the CLI (issue 22.6): each input is given to the real `aiguard` in a
 * child process with a time bound, and its exit code and message are checked. Exit 1 means only
 * "unattested calls found" (check) or "broken" (verify); nothing ever ends in a TypeError or hangs.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runtimeCommand } from "./support/runtime_command.ts";
import { recordJson } from "./support/fixtures.ts";
import { ReportBuilder } from "./support/report_builder.ts";
import { main } from "../cli.ts";

const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));
/** No input may keep a command longer than this (each run is killed at twice that). */
const BOUND_MS = 15_000;

let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), "aiguard-hostile-"))));
after(() => rm(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

/** Runs `aiguard ...argv` as a child process; resolves with its exit code, output and time. */
function aiguard(...argv: string[]): Promise<Run> {
  const [cmd, args] = runtimeCommand(CLI, argv);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", AIGUARD_CONFIG: "" },
      cwd: dir,
    });
    let out = "";
    let err = "";
    child.stdout!.on("data", (c) => (out += c));
    child.stderr!.on("data", (c) => (err += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), BOUND_MS * 2);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, ms: Date.now() - started });
    });
  });
}

function expectRun(run: Run, code: number, stream: "out" | "err", message: RegExp, what: string) {
  console.log(`hostile input: ${what}: exit ${run.code} in ${run.ms} ms`);
  assert.ok(run.ms < BOUND_MS, `${what}: took ${run.ms} ms`);
  assert.equal(run.code, code, `${what}: exit ${run.code}\n${run.out}${run.err}`);
  assert.match(run[stream], message, what);
  assert.doesNotMatch(run.out + run.err, /TypeError|at .*\.ts:\d+/, `${what}: no crash`);
}

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

test("records with wrong types are malformed: check exits 2 naming the field, report counts them", async () => {
  const path = await file(
    "types.jsonl",
    [
      recordJson({ ts: 5 }),
      recordJson({ provider: {} }),
      recordJson({ action: 7 }),
      recordJson({ ts: "yesterday" }),
      recordJson({ stack: "a.ts:1:1" }),
    ].join("\n") + "\n",
  );
  expectRun(
    await aiguard("check", "--file", path),
    2,
    "err",
    /^aiguard check: 5 malformed lines that no recovery line explains \(first at .*types\.jsonl:1: an ai_call record whose "ts" is not an ISO 8601 time\): it fails closed/,
    "check",
  );
  expectRun(
    await aiguard("check", "--file", path, "--allow-malformed"),
    0,
    "out",
    /no unattested AI calls \(5 malformed lines skipped\)/,
    "check --allow-malformed",
  );
  expectRun(
    await aiguard("report", "--file", path),
    0,
    "out",
    /0 unattested AI calls at 0 call sites \(5 malformed lines skipped\)/,
    "report",
  );
});

test("10 MB of random bytes: check fails closed, report and verify end quickly", async () => {
  const bytes = new Uint8Array(10 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i += 65536) {
    crypto.getRandomValues(bytes.subarray(i, i + 65536));
  }
  const path = await file("random.jsonl", bytes);
  expectRun(
    await aiguard("check", "--file", path),
    2,
    "err",
    /malformed lines that no recovery line explains .*it fails closed/,
    "check",
  );
  expectRun(await aiguard("report", "--file", path), 0, "out", /malformed lines skipped/, "report");
  expectRun(
    await aiguard("verify", "--file", path),
    1,
    "out",
    // Random bytes start with a newline one time in 256: line 1 is then an empty line.
    /BROKEN at .*random\.jsonl:1: (not valid UTF-8|not a JSON line|a line over|an empty line)/,
    "verify",
  );
});

test("a FIFO, a directory and a device are refused with exit 2, never read", async () => {
  const fifo = join(dir, "fifo.jsonl");
  spawnSync("mkfifo", [fifo]);
  const folder = join(dir, "folder.jsonl");
  await mkdir(folder);
  for (
    const [path, kind] of [[fifo, "a FIFO"], [folder, "a directory"], [
      "/dev/zero",
      "a character device",
    ]] as const
  ) {
    for (const command of ["check", "report", "verify", "coverage", "tail"]) {
      expectRun(
        await aiguard(command, "--file", path, ...(command === "coverage" ? [dir] : [])),
        2,
        "err",
        new RegExp(`^aiguard ${command}: cannot read .* \\(${kind}, not a regular file\\)`),
        `${command} on ${kind}`,
      );
    }
  }
});

test("a FIFO in place of a backup is refused too", async () => {
  const sub = join(dir, "fifo-backup");
  await mkdir(sub);
  await writeFile(join(sub, "guard_log.jsonl"), recordJson() + "\n");
  spawnSync("mkfifo", [join(sub, "guard_log.3.jsonl")]);
  expectRun(
    await aiguard("check", "--file", join(sub, "guard_log.jsonl")),
    2,
    "err",
    /cannot read .*guard_log\.3\.jsonl \(a FIFO, not a regular file\)/,
    "check",
  );
});

test("report on a missing file exits 2 as check does (--allow-missing goes on)", async () => {
  const missing = join(dir, "missing.jsonl");
  expectRun(
    await aiguard("report", "--file", missing),
    2,
    "err",
    /^aiguard report: no report at/,
    "report",
  );
  expectRun(
    await aiguard("report", "--file", missing, "--allow-missing"),
    0,
    "out",
    /0 unattested AI calls/,
    "report --allow-missing",
  );
});

test("seq −5, 1.5, 10^400 and 310 digits break the line: verify exits 1 naming it, check 2", async () => {
  const b = new ReportBuilder().start().records(2);
  const good = b.lines();
  for (
    const [name, seq] of [["minus", "-5"], ["fraction", "1.5"], ["exponent", "1e400"], [
      "digits",
      "9".repeat(310),
    ], ["unsafe", "9007199254740993"]]
  ) {
    const hostile = `{"seq":${seq},"prev":"${"0".repeat(64)}",${recordJson().slice(1)}`;
    const path = await file(`seq-${name}.jsonl`, [...good, hostile].join("\n") + "\n");
    expectRun(
      await aiguard("verify", "--file", path),
      1,
      "out",
      /BROKEN at .*:4: seq is not a positive safe integer/,
      `verify seq ${name}`,
    );
    expectRun(
      await aiguard("check", "--file", path),
      2,
      "err",
      /:4: seq is not a positive safe integer/,
      `check seq ${name}`,
    );
  }
});

test("a huge line, NUL bytes, a BOM and CRLF line ends", async () => {
  const huge = await file("huge.jsonl", recordJson({ model: "x".repeat(2 << 20) }) + "\n");
  expectRun(
    await aiguard("check", "--file", huge),
    2,
    "err",
    /huge\.jsonl:1: a line over 1048576 bytes/,
    "huge line",
  );
  const nul = await file("nul.jsonl", recordJson().replace('"chat"', '"ch\0at"') + "\n");
  expectRun(
    await aiguard("check", "--file", nul),
    2,
    "err",
    /nul\.jsonl:1: not a JSON line/,
    "NUL",
  );
  // A byte order mark (an editor's) before the first record: the record is read.
  const bom = await file(
    "bom.jsonl",
    "\uFEFF" + recordJson({ call_site: "src/bom.ts:1:1" }) + "\n",
  );
  expectRun(await aiguard("check", "--file", bom), 1, "out", /src\/bom\.ts:1:1/, "BOM");
  // CRLF line ends: the records are read; the chain (over the bytes written) is broken.
  const crlf = await file(
    "crlf.jsonl",
    new ReportBuilder().start().records(3, { call_site: "src/crlf.ts:2:2" }).lines().join("\r\n") +
      "\r\n",
  );
  expectRun(await aiguard("check", "--file", crlf), 1, "out", /src\/crlf\.ts:2:2/, "CRLF check");
  expectRun(
    await aiguard("verify", "--file", crlf),
    1,
    "out",
    /BROKEN at .*crlf\.jsonl:1: seq 1: edited/,
    "CRLF verify",
  );
});

test("verify: a report with no chained line is not intact", async () => {
  const unchained = await file("unchained.jsonl", recordJson() + "\n" + recordJson() + "\n");
  expectRun(
    await aiguard("verify", "--file", unchained),
    1,
    "out",
    /BROKEN at .*unchained\.jsonl:1: a line without seq and prev/,
    "unchained",
  );
  const empty = await file("empty.jsonl", "");
  expectRun(
    await aiguard("verify", "--file", empty),
    1,
    "out",
    /BROKEN at .*: no chained line: nothing in this report can be verified/,
    "empty",
  );
});

test("a table cell lists at most three models, then +N more", async () => {
  const lines = Array.from({ length: 12 }, (_, i) => recordJson({ model: `model-${i}` }));
  const path = await file("models.jsonl", lines.join("\n") + "\n");
  let out = "";
  const code = await main(["report", "--file", path], { out: (t) => (out += t), err: () => {} });
  assert.equal(code, 0);
  assert.match(out, /model-0, model-1, model-2 \+9 more/);
  assert.doesNotMatch(out, /model-3/);
  let json = "";
  await main(["report", "--file", path, "--format", "json"], {
    out: (t) => (json += t),
    err: () => {},
  });
  assert.equal(JSON.parse(json).sites[0].models.length, 12, "JSON keeps them all");
});

test("50,000 distinct models at one call site are grouped in linear time", async () => {
  const lines = Array.from({ length: 50_000 }, (_, i) => recordJson({ model: `m${i}` }));
  const path = await file("flood.jsonl", lines.join("\n") + "\n");
  const started = Date.now();
  let out = "";
  const code = await main(["report", "--file", path], { out: (t) => (out += t), err: () => {} });
  const ms = Date.now() - started;
  console.log(`hostile input: 50,000 models at one site: exit ${code} in ${ms} ms`);
  assert.equal(code, 0);
  assert.match(out, /m0, m1, m2 \+49997 more/);
  assert.ok(ms < BOUND_MS, `${ms} ms`);
});

test("an unforeseen failure is exit 2 with one line, never 1 and never a stack", async () => {
  const path = await file("ok.jsonl", recordJson() + "\n");
  let err = "";
  const code = await main(
    ["coverage", "--file", path, "--out", join(dir, "no", "such", "dir", "c.html"), dir],
    { out: () => {}, err: (t) => (err += t) },
  );
  assert.equal(code, 2);
  assert.match(err, /^aiguard coverage: ENOENT[^\n]*\n$/);
});
