// @runtimes deno bun node
/**
 * Facts the CLI, the lint plugins and the evidence exports share: the rule id, and how a call site
 * (`path:line:column`) is read.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RULE_FIX, RULE_ID, RULE_NAME, ruleMessage } from "../src/rule.ts";
import { render } from "../src/cli/formats.ts";
import { sarifResult } from "../src/cli/scan_command.ts";
import eslintPlugin from "../eslint.ts";
import denoLintPlugin from "../lint.ts";
import { splitCallSite } from "../src/detect/call_site.ts";
import { joinCoverage } from "../src/scan/coverage.ts";
import { buildAiBom } from "../src/report/aibom.ts";
import type { GuardRecord } from "../src/report/record.ts";
import type { ScanSite } from "../src/scan/scan.ts";

test("one rule id: the lint rule's name is the SARIF ruleId of report and scan", () => {
  assert.equal(RULE_ID, "aiguard/no-unattested-ai-call");
  const eslintIds = Object.keys(eslintPlugin.rules).map((r) =>
    `${eslintPlugin.meta.namespace}/${r}`
  );
  assert.deepEqual(eslintIds, [RULE_ID]);
  assert.deepEqual(Object.keys(eslintPlugin.configs.recommended!.rules), [RULE_ID]);
  const denoIds = Object.keys(denoLintPlugin.rules).map((r) => `${denoLintPlugin.name}/${r}`);
  assert.deepEqual(denoIds, [RULE_ID]);
  const group = {
    call_site: "src/app.ts:3:9",
    count: 1,
    providers: ["openai"],
    models: [],
    actions: ["reported"],
    first_seen: "2026-12-01T00:00:00.000Z",
    last_seen: "2026-12-01T00:00:00.000Z",
  };
  const report = JSON.parse(render("sarif", [group], 0));
  assert.deepEqual(report.runs[0].tool.driver.rules.map((r: { id: string }) => r.id), [RULE_ID]);
  assert.equal(report.runs[0].results[0].ruleId, RULE_ID);
  const site = { file: "src/app.ts", line: 3, column: 9, provider: "openai", target: "t" };
  assert.equal((sarifResult(site as ScanSite, "x") as { ruleId: string }).ruleId, RULE_ID);
});

test("one message: the lint plugins, scan and SARIF word an unattested site the same", () => {
  const expected =
    "Unattested openai call (openai.embeddings.create): wrap the calling function with attest() once it is reviewed.";
  assert.equal(ruleMessage("openai", "openai.embeddings.create"), expected);
  const template = eslintPlugin.rules[RULE_NAME]!.meta.messages.unattested!;
  assert.equal(
    template.replace("{{provider}}", "openai").replace("{{target}}", "openai.embeddings.create"),
    expected,
  );
  assert.ok(expected.toLowerCase().endsWith(RULE_FIX.toLowerCase()));
});

test("splitCallSite: path:line:column, colons in the path, a leading ./ dropped", () => {
  assert.deepEqual(splitCallSite("src/app.ts:12:7"), { path: "src/app.ts", line: 12, column: 7 });
  assert.deepEqual(splitCallSite("./src/app.ts:1:2"), { path: "src/app.ts", line: 1, column: 2 });
  assert.deepEqual(splitCallSite("file:///C:/app/main.ts:3:4"), {
    path: "file:///C:/app/main.ts",
    line: 3,
    column: 4,
  });
  for (const other of ["src/app.ts", "src/app.ts:12", "src/app.ts:a:1", ""]) {
    assert.equal(splitCallSite(other), null, other);
  }
});

test("coverage and the AI-BOM read a ./-prefixed call site as the scan's file", () => {
  const record = {
    v: 1,
    ts: "2026-12-01T00:00:00.000Z",
    event: "ai_call",
    attested: false,
    provider: "openai",
    model: "gpt-4o",
    call_site: "./src/app.ts:3:9",
  } as unknown as GuardRecord;
  const site = { file: "src/app.ts", line: 3, column: 9, provider: "openai", target: "t" };
  const coverage = joinCoverage([site as ScanSite], [record]);
  assert.deepEqual(coverage.sites.map((s) => s.status), ["unattested_seen"]);
  const bom = JSON.stringify(buildAiBom([record], [site as ScanSite]));
  // One occurrence, the scan's and the runtime's at once: no second "./src/app.ts" entry.
  assert.ok(!bom.includes("./src/app.ts"), bom);
});
