// @runtimes deno bun node
/**
 * `aiguard coverage`: the corpus's static sites joined with runtime records by file and line.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliIn } from "./support/cli_in.ts";
import { recordJson } from "./support/fixtures.ts";

const CORPUS = new URL("./fixtures/scan/", import.meta.url).pathname;
let dir: string;
let report: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "aiguard-coverage-"));
  await cp(CORPUS, dir, { recursive: true });
  report = join(dir, "guard_log.jsonl");
  const now = new Date().toISOString();
  await writeFile(
    report,
    [
      // imports.ts:15 ran unattested, twice.
      recordJson({ ts: now, call_site: "imports.ts:15:9", model: "gpt-4o" }),
      recordJson({ ts: now, call_site: "imports.ts:15:9", model: "gpt-4o-mini" }),
      // attested.ts:9 ran attested.
      recordJson({
        ts: now,
        call_site: "attested.ts:9:9",
        attested: true,
        action: "allowed",
        attestation: { id: "inline-v1", reason: null },
      }),
      // attested.ts:13 is attested statically (attest(byName)), yet it ran unattested (called
      // directly too): the runtime has the last word.
      recordJson({ ts: now, call_site: "attested.ts:13:9" }),
      // A call built at run time that no scan can see.
      recordJson({ ts: now, call_site: "plugins/dynamic.ts:3:5", provider: "anthropic" }),
      "not json",
    ].join("\n") + "\n",
  );
});
after(() => rm(dir, { recursive: true, force: true }));

const cli = (...argv: string[]) => cliIn(dir, ...argv);

test("coverage joins scan sites and runtime records: the four statuses", async () => {
  const { code, out } = await cli("coverage", "--file", report, "--format", "json");
  assert.equal(code, 0);
  const coverage = JSON.parse(out);
  assert.equal(coverage.v, 1);
  const at = (file: string, line: number) =>
    coverage.sites.find((s: { file: string; line: number }) => s.file === file && s.line === line);
  const seen = at("imports.ts", 15);
  assert.equal(seen.status, "unattested_seen");
  assert.equal(seen.runtime.count, 2);
  assert.deepEqual(seen.runtime.models, ["gpt-4o", "gpt-4o-mini"]);
  assert.equal(seen.static.confidence, "high");
  assert.equal(at("attested.ts", 9).status, "attested");
  assert.equal(at("attested.ts", 9).runtime.count, 1);
  assert.equal(at("imports.ts", 16).status, "unattested_unseen");
  assert.equal(at("attested.ts", 13).static.attested, true);
  assert.equal(at("attested.ts", 13).status, "unattested_seen");
  assert.equal(at("imports.ts", 16).runtime, null);
  const dynamic = at("plugins/dynamic.ts", 3);
  assert.equal(dynamic.status, "runtime_only");
  assert.equal(dynamic.static, null);
  assert.equal(dynamic.provider, "anthropic");
  const counts = coverage.sites.reduce(
    (n: Record<string, number>, s: { status: string }) => ({
      ...n,
      [s.status]: (n[s.status] ?? 0) + 1,
    }),
    {},
  );
  assert.deepEqual(coverage.summary, {
    attested: counts.attested ?? 0,
    unattested_seen: counts.unattested_seen ?? 0,
    unattested_unseen: counts.unattested_unseen ?? 0,
    runtime_only: counts.runtime_only ?? 0,
  });
  assert.equal(coverage.summary.runtime_only, 1);
  assert.equal(coverage.summary.unattested_seen, 2);
});

test("coverage table, sarif and a self-contained html page; it fails closed without a report", async () => {
  const table = await cli("coverage", "--file", report);
  assert.match(table.out, /imports\.ts:15\s+unattested_seen\s+openai/);
  assert.match(
    table.out,
    /\d+ attested · 2 unattested seen · \d+ unattested unseen · 1 runtime only/,
  );
  const sarif = JSON.parse((await cli("coverage", "--file", report, "--format", "sarif")).out);
  assert.ok(
    sarif.runs[0].results.some((r: { message: { text: string } }) =>
      /runtime only/.test(r.message.text)
    ),
  );
  const page = join(dir, "coverage.html");
  const html = await cli("coverage", "--file", report, "--format", "html", "--out", page);
  assert.equal(html.code, 0);
  const text = await readFile(page, "utf8");
  assert.match(text, /^<!doctype html>/);
  assert.doesNotMatch(
    text,
    /\b(?:src|href)=|https?:\/\/(?!www\.w3\.org)/,
    "nothing loaded from anywhere",
  );
  const missing = await cli("coverage", "--file", join(dir, "none.jsonl"));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /no report at .*none\.jsonl/);
  const allowed = await cli(
    "coverage",
    "--file",
    join(dir, "none.jsonl"),
    "--allow-missing",
    "--format",
    "json",
  );
  assert.equal(allowed.code, 0);
  assert.equal(JSON.parse(allowed.out).summary.unattested_seen, 0);
});
