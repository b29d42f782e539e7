// @runtimes deno bun node
/**
 * `aiguard export --format cyclonedx`: the AI bill of materials from the report (and the scan),
 * validated against the official CycloneDX 1.6 JSON schema (@cyclonedx/cyclonedx-library).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import { main } from "../cli.ts";
import { recordJson } from "./support/fixtures.ts";

let dir: string;
let report: string;
const CORPUS = new URL("./fixtures/scan/", import.meta.url).pathname;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "aiguard-aibom-"));
  report = join(dir, "guard_log.jsonl");
  await writeFile(
    report,
    [
      recordJson({ call_site: "src/a.ts:10:5", model: "gpt-4o-mini" }),
      recordJson({ call_site: "src/a.ts:10:5", model: "gpt-4o-mini" }),
      recordJson({ call_site: "src/b.ts:3:1", model: "gpt-4o" }),
      recordJson({
        call_site: "src/c.ts:7:9",
        provider: "aws.bedrock",
        model: "anthropic.claude-3-haiku",
        server: "bedrock-runtime.us-east-1.amazonaws.com",
        target: "bedrock.converse",
      }),
      recordJson({ event: "dropped", count: 3 }),
    ].join("\n") + "\n",
  );
});
after(() => rm(dir, { recursive: true, force: true }));

async function exportBom(...argv: string[]) {
  let out = "";
  let err = "";
  const code = await main(["export", "--format", "cyclonedx", ...argv], {
    out: (t) => (out += t),
    err: (t) => (err += t),
  });
  return { code, out, err };
}

async function validate(json: string): Promise<unknown> {
  const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
  return await validator.validate(json);
}

test("the AI-BOM lists providers as services, models as components, call sites as occurrences", async () => {
  const { code, out } = await exportBom("--file", report);
  assert.equal(code, 0);
  assert.equal(await validate(out), null, "valid CycloneDX 1.6 (strict)");
  const bom = JSON.parse(out);
  assert.equal(bom.bomFormat, "CycloneDX");
  assert.equal(bom.specVersion, "1.6");
  assert.deepEqual(bom.services.map((s: { name: string }) => s.name), ["aws.bedrock", "openai"]);
  assert.deepEqual(
    bom.services.find((s: { name: string }) => s.name === "aws.bedrock").endpoints,
    ["https://bedrock-runtime.us-east-1.amazonaws.com"],
  );
  const models = bom.components.map((c: { type: string; group: string; name: string }) =>
    `${c.type} ${c.group}/${c.name}`
  );
  assert.deepEqual(models, [
    "machine-learning-model aws.bedrock/anthropic.claude-3-haiku",
    "machine-learning-model openai/gpt-4o",
    "machine-learning-model openai/gpt-4o-mini",
  ]);
  const mini = bom.components.find((c: { name: string }) => c.name === "gpt-4o-mini");
  assert.deepEqual(mini.evidence.occurrences, [{ location: "src/a.ts", line: 10 }]);
  assert.deepEqual(mini.properties, [{ name: "aiguard:calls", value: "2" }]);
  assert.deepEqual(
    bom.dependencies.find((d: { ref: string }) => d.ref === mini["bom-ref"]).dependsOn,
    ["service:openai"],
  );
});

test("with --scan, the static sites join the BOM; it still validates", async () => {
  const { code, out } = await exportBom("--file", report, "--scan", CORPUS);
  assert.equal(code, 0);
  assert.equal(await validate(out), null);
  const bom = JSON.parse(out);
  const names = bom.services.map((s: { name: string }) => s.name);
  for (const provider of ["anthropic", "gcp.gemini", "mistral_ai", "cohere", "aws.bedrock"]) {
    assert.ok(names.includes(provider), provider);
  }
  const unknown = bom.components.filter((c: { name: string }) => /model not known/.test(c.name));
  assert.ok(unknown.length > 0);
  assert.ok(
    unknown.every((c: { evidence: { occurrences: unknown[] } }) =>
      c.evidence.occurrences.length > 0
    ),
  );
});

test("a BOM the schema rejects is caught by the validator (the check can fail)", async () => {
  const { out } = await exportBom("--file", report);
  const bom = JSON.parse(out);
  bom.components[0].type = "ai-model"; // not a CycloneDX component type
  assert.notEqual(await validate(JSON.stringify(bom)), null);
  const missing = await exportBom("--file", join(dir, "none.jsonl"));
  assert.equal(missing.code, 2);
});
