// @runtimes deno bun node
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../cli.ts";
import { recordJson } from "./support/fixtures.ts";
import { ReportBuilder } from "./support/report_builder.ts";
import { spawnSync } from "node:child_process";

let dir: string;
let file: string;

const record = recordJson;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "aiguard-cli-"));
  file = join(dir, "guard_log.jsonl");
  const recent = new Date(Date.now() - 60_000).toISOString();
  // Oldest in backup 2, then backup 1, then the live file; one malformed line.
  await writeFile(
    join(dir, "guard_log.2.jsonl"),
    record({ ts: "2026-01-01T00:00:00.000Z" }) + "\n",
  );
  await writeFile(
    join(dir, "guard_log.1.jsonl"),
    [
      record({ ts: "2026-02-01T00:00:00.000Z", provider: "anthropic", model: "claude" }),
      "{not json",
    ].join("\n") + "\n",
  );
  await writeFile(
    file,
    [
      record({ ts: recent, call_site: "src/b.ts:3:9", model: null }),
      record({ ts: recent, attested: true, action: "allowed", call_site: "src/c.ts:1:1" }),
      JSON.stringify({ v: 1, ts: recent, event: "dropped", count: 4 }),
    ].join("\n") + "\n",
  );
});
after(() => rm(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test("report groups unattested calls by call site across rotated backups, newest first", async () => {
  const { code, out } = await run("report", "--file", file, "--format", "json");
  assert.equal(code, 0);
  const json = JSON.parse(out);
  assert.equal(json.skipped, 1);
  assert.equal(json.calls, 3);
  assert.deepEqual(json.sites.map((s: { call_site: string }) => s.call_site), [
    "src/b.ts:3:9",
    "src/a.ts:10:5",
  ]);
  const a = json.sites[1];
  assert.equal(a.count, 2);
  assert.deepEqual(a.providers, ["openai", "anthropic"]);
  assert.deepEqual(a.models, ["gpt-4o", "claude"]);
  assert.equal(a.first_seen, "2026-01-01T00:00:00.000Z");
  assert.equal(a.last_seen, "2026-02-01T00:00:00.000Z");
});

test("report --since keeps only recent calls; the table names counts and skipped lines", async () => {
  const { out } = await run("report", "--file", file, "--since", "1h");
  const lines = out.trim().split("\n");
  assert.match(lines[0]!, /^CALL SITE\s+COUNT\s+PROVIDERS\s+MODELS\s+FIRST SEEN\s+LAST SEEN$/);
  assert.match(lines[1]!, /^src\/b\.ts:3:9\s+1\s+openai\s+-\s/);
  assert.equal(lines.length, 3);
  assert.equal(lines[2], "1 unattested AI call at 1 call site (1 malformed line skipped)");
});

test("report --format markdown is a table ready for a PR comment", async () => {
  const { out } = await run("report", "--file", file, "--format", "markdown");
  assert.match(out, /^### aiguard: unattested AI calls/);
  assert.match(out, /\| `src\/a\.ts:10:5` \| 2 \| openai, anthropic \| gpt-4o, claude \|/);
});

test("report --format sarif is SARIF 2.1.0 with one located result per call site", async () => {
  const { out } = await run("report", "--file", file, "--format", "sarif");
  const sarif = JSON.parse(out);
  assert.equal(sarif.version, "2.1.0");
  assert.match(sarif.$schema, /sarif-2\.1\.0/);
  const [runEntry] = sarif.runs;
  assert.equal(runEntry.tool.driver.name, "aiguard");
  const ruleIds = runEntry.tool.driver.rules.map((r: { id: string }) => r.id);
  assert.equal(runEntry.results.length, 2);
  for (const result of runEntry.results) {
    assert.ok(ruleIds.includes(result.ruleId));
    assert.equal(typeof result.message.text, "string");
    assert.ok(["none", "note", "warning", "error"].includes(result.level));
  }
  const loc = runEntry.results[1].locations[0].physicalLocation;
  assert.deepEqual(loc, {
    artifactLocation: { uri: "src/a.ts" },
    region: { startLine: 10, startColumn: 5 },
  });
});

test("check exits 1 and lists call sites when there are unattested calls, 0 when none", async () => {
  // The backup holds one malformed line: check fails closed on it unless told to skip it.
  const closed = await run("check", "--file", file);
  assert.equal(closed.code, 2);
  assert.match(
    closed.err,
    /^aiguard check: 1 malformed line that no recovery line explains \(first at .*guard_log\.1\.jsonl:2: not a JSON line/,
  );
  const failing = await run("check", "--file", file, "--allow-malformed");
  assert.equal(failing.code, 1);
  assert.match(failing.out, /src\/b\.ts:3:9/);
  assert.match(failing.out, /check: failed/);
  const clean = join(dir, "clean.jsonl");
  await writeFile(clean, record({ attested: true, action: "allowed" }) + "\n");
  const passing = await run("check", "--file", clean);
  assert.equal(passing.code, 0);
  assert.match(passing.out, /no unattested AI calls/);
  const empty = join(dir, "empty.jsonl");
  await writeFile(empty, "");
  const nothingYet = await run("check", "--file", empty);
  assert.equal(nothingYet.code, 0, "an empty report that exists is a pass");
});

test("check fails closed: a missing or unreadable report exits 2 with the reason", async () => {
  const typo = join(dir, "typo.jsonl");
  const missing = await run("check", "--file", typo);
  assert.equal(missing.code, 2);
  assert.equal(missing.out, "");
  assert.match(
    missing.err,
    /^aiguard check: no report at .*typo\.jsonl: did the guard run in report or block mode\?/,
  );
  assert.equal(missing.err.trimEnd().split("\n").length, 1, "one line");
  const allowed = await run("check", "--file", typo, "--allow-missing");
  assert.equal(allowed.code, 0);
  assert.match(allowed.out, /no unattested AI calls/);
  // A directory where the report should be: it exists but cannot be read as a file.
  const directory = join(dir, "a-directory.jsonl");
  await mkdir(directory);
  const unreadable = await run("check", "--file", directory, "--allow-missing");
  assert.equal(unreadable.code, 2);
  assert.match(
    unreadable.err,
    /cannot read .*a-directory\.jsonl \(a directory, not a regular file\): it fails closed/,
  );
});

test("unknown flags, bad values and unknown commands exit 2 with a one-line hint", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["report", "--colour"], /unknown flag --colour \(see aiguard report --help\)/],
    [["report", "--format", "xml"], /--format must be one of table, json, markdown, sarif/],
    [["check", "--since", "yesterday"], /"yesterday" is not a duration/],
    [["report", "--file"], /--file needs a value/],
    [["daemon", "restart"], /daemon needs one of start, stop, status, run/],
    [["export"], /export needs --kv PATH or --format cyclonedx/],
    [["launch"], /unknown command launch \(see aiguard --help\)/],
  ];
  for (const [argv, message] of cases) {
    const { code, err } = await run(...argv);
    assert.equal(code, 2, argv.join(" "));
    assert.match(err, message);
    assert.equal(err.trim().split("\n").length, 1);
  }
});

test("--help works on every command", async () => {
  const commands = [
    "report",
    "check",
    "daemon",
    "tail",
    "export",
    "scan",
    "coverage",
    "init",
    "verify",
  ];
  for (const command of commands) {
    const { code, out } = await run(command, "--help");
    assert.equal(code, 0);
    assert.match(out, new RegExp(`^Usage: aiguard ${command}`));
    const unknown = await run(command, "--nope");
    assert.equal(unknown.code, 2, `${command} --nope`);
    assert.match(
      unknown.err,
      new RegExp(`unknown flag --nope \\(see aiguard ${command} --help\\)`),
    );
  }
  const main = (await run("--help")).out;
  assert.match(main, /Commands:/);
  for (const command of commands) assert.match(main, new RegExp(`\\n  ${command} `));
});

test("tail prints each new record on one line and follows the file through rotation", async () => {
  const path = join(dir, "tail.jsonl");
  await writeFile(path, record({ model: "old" }) + "\n"); // already there: not printed
  let out = "";
  const controller = new AbortController();
  const done = main(["tail", "--file", path, "--poll-ms", "20"], {
    out: (t) => (out += t),
    err: () => {},
  }, controller.signal);
  // Up to 10 s (a loaded machine); the tail is stopped whatever happens, or it would poll forever.
  const waitFor = async (pattern: RegExp) => {
    for (let i = 0; i < 1000 && !pattern.test(out); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.match(out, pattern);
  };
  try {
    await new Promise((r) => setTimeout(r, 200));
    const { appendFile, rename } = await import("node:fs/promises");
    await appendFile(path, record({ model: "m1", call_site: "src/x.ts:1:2" }) + "\n");
    await appendFile(
      path,
      record({
        model: "m2",
        attested: true,
        action: "allowed",
        attestation: { id: "rev", reason: null },
      }) + "\n",
    );
    await waitFor(/m2/);
    await rename(path, join(dir, "tail.1.jsonl"));
    await writeFile(path, record({ model: "m3" }) + "\n");
    await waitFor(/m3/);
  } finally {
    controller.abort();
  }
  assert.equal(await done, 0);
  const lines = out.trim().split("\n");
  assert.equal(lines.length, 3, out);
  assert.match(lines[0]!, /reported\s+UNATTESTED\s+openai chat m1\s+src\/x\.ts:1:2$/);
  assert.match(lines[1]!, /allowed\s+attested \(rev\)\s+openai chat m2/);
  assert.match(lines[2]!, /m3/);
  assert.doesNotMatch(out, /old/);
});

test("a torn line explained by the recovery line after it is no malformed line for check", async () => {
  const b = new ReportBuilder().start().records(1, { call_site: "src/before.ts:1:1" });
  b.tornThenRecovered('{"seq":3,"prev":"ab');
  b.records(1, { call_site: "src/after.ts:2:2" });
  const path = await b.write(join(dir, "recovered.jsonl"));
  const checked = await run("check", "--file", path);
  assert.equal(checked.code, 1, checked.err);
  assert.match(checked.out, /src\/after\.ts:2:2/);
  assert.match(checked.out, /src\/before\.ts:1:1/);
  assert.doesNotMatch(checked.out, /malformed/, "a recovered fragment is not counted as malformed");
  // The same fragment with no recovery line after it is malformed: check fails closed.
  const lines = b.lines();
  const torn = join(dir, "torn.jsonl");
  await writeFile(torn, [...lines.slice(0, 3), ...lines.slice(4)].join("\n") + "\n");
  const closed = await run("check", "--file", torn);
  assert.equal(closed.code, 2);
  assert.match(closed.err, /torn\.jsonl:3: not a JSON line/);
});

test("verify checks the chain of a wrongly typed record in place, and says check fails on it", async () => {
  const b = new ReportBuilder().start().records(1).records(1, { ts: 5 }).records(1);
  const path = await b.write(join(dir, "untyped.jsonl"));
  const verified = await run("verify", "--file", path);
  assert.equal(verified.code, 0, verified.out);
  assert.match(
    verified.out,
    /1 chained line\(s\) in place are not valid records \(first at .*:3\)/,
  );
  assert.equal((await run("check", "--file", path)).code, 2);
});

test("verify --key refuses a key that is a FIFO or missing (exit 2), without waiting on it", async () => {
  const path = await new ReportBuilder().start().records(1).write(join(dir, "keyless.jsonl"));
  const fifo = join(dir, "key.fifo");
  spawnSync("mkfifo", [fifo]);
  const piped = await run("verify", "--file", path, "--key", fifo);
  assert.equal(piped.code, 2);
  assert.match(piped.err, /cannot read the key .*key\.fifo \(a FIFO, not a regular file\)/);
  const missing = await run("verify", "--file", path, "--key", join(dir, "nope.pem"));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cannot read the key .*nope\.pem \(no such file\)/);
});
