/**
 * Attestation policy: registered ids (owner, ticket, expiry, providers, models), requireRegistered,
 * and a global model allowlist. Each violation kind in report, warn and block mode; attested calls
 * included; config errors name the file and the key.
 */
import { beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { attest, AttestationError, enableGuard } from "../mod.ts";
import { parseConfigText } from "../src/config_file.ts";
import { checkPolicy, matchesPattern } from "../src/policy.ts";
import { freshContext } from "./support/mock_ai_server.ts";
import { installNetwork } from "./support/fake_network.ts";
import { aiCalls } from "./support/records.ts";

beforeEach(freshContext);

const POLICY = {
  attestations: {
    "summarize-v1": {
      owner: "ml-platform",
      ticket: "REV-101",
      expires: "2999-06-30",
      providers: ["openai"],
      models: ["gpt-4o-mini", "gpt-4o-*"],
    },
    "old-path": { owner: "legacy", ticket: "REV-7", expires: "2020-01-31" },
  },
  requireRegistered: true,
  models: ["gpt-4o*", "claude-*"],
};

const call = (model: string, url = "https://api.openai.com/v1/chat/completions") =>
  fetch(url, { method: "POST", body: JSON.stringify({ model, messages: [] }) });

const attested = (id: string | undefined, model: string, url?: string) =>
  attest(() => call(model, url), id === undefined ? {} : { id })();

test("report mode: each violation kind is a record with action violation; compliant calls are not", async () => {
  const net = installNetwork();
  const guard = enableGuard({ mode: "report", sinks: ["memory"], policy: POLICY });
  try {
    await attested("summarize-v1", "gpt-4o-mini"); // compliant: no record
    await attested("unknown-id", "gpt-4o-mini"); // unregistered
    await attested("old-path", "gpt-4o"); // expired
    await attested("summarize-v1", "gpt-4o", "https://api.anthropic.com/v1/messages"); // provider
    await attested("summarize-v1", "gpt-4.1"); // model (the attestation's list)
    await call("llama-3"); // unattested, and a model outside the global list
    await call("gpt-4o"); // unattested, model allowed: an ordinary report
    assert.equal(net.seen.length, 7, "report mode stops nothing");
    const records = aiCalls(guard.records());
    assert.deepEqual(records.map((r) => [r.action, r.violation ?? null, r.attested]), [
      ["violation", "unregistered", true],
      ["violation", "expired", true],
      ["violation", "provider", true],
      ["violation", "model", true],
      ["violation", "model", false],
      ["reported", null, false],
    ]);
    // A registered attestation's owner and ticket are on its records.
    assert.deepEqual(records[2]!.attestation, {
      id: "summarize-v1",
      reason: null,
      owner: "ml-platform",
      ticket: "REV-101",
    });
  } finally {
    await guard.disable();
    net.restore();
  }
});

test("block mode: a violation throws AttestationError before anything is sent, attested calls included", async () => {
  const net = installNetwork();
  const guard = enableGuard({ mode: "block", sinks: ["memory"], policy: POLICY });
  try {
    await attested("summarize-v1", "gpt-4o-mini");
    assert.equal(net.seen.length, 1);
    for (
      const [id, model, kind] of [
        ["unknown-id", "gpt-4o-mini", "unregistered"],
        ["old-path", "gpt-4o", "expired"],
        ["summarize-v1", "o3", "model"],
      ] as const
    ) {
      await assert.rejects(attested(id, model), (error: unknown) => {
        assert.ok(error instanceof AttestationError);
        assert.equal(error.violation, kind);
        assert.match(error.message, new RegExp(`policy violation \\(${kind}\\)`));
        return true;
      });
    }
    await assert.rejects(
      attested(undefined, "gpt-4o"),
      /attest\(\) has no id and the policy requires/,
    );
    assert.equal(net.seen.length, 1, "nothing sent for a violation");
    assert.deepEqual(aiCalls(guard.records()).map((r) => r.action), [
      "blocked",
      "blocked",
      "blocked",
      "blocked",
    ]);
  } finally {
    await guard.disable();
    net.restore();
  }
});

test("warn mode: a violation is recorded and warned once per call site", async () => {
  const net = installNetwork();
  const warnings: string[] = [];
  const guard = enableGuard({
    mode: "warn",
    sinks: ["memory"],
    policy: POLICY,
    logger: { warn: (m: string) => void warnings.push(m) },
  });
  try {
    for (let i = 0; i < 2; i++) await attested("old-path", "gpt-4o");
    assert.equal(net.seen.length, 2);
    assert.deepEqual(aiCalls(guard.records()).map((r) => r.action), ["violation", "violation"]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /attestation policy violation \(expired\).*expired on 2020-01-31/);
  } finally {
    await guard.disable();
    net.restore();
  }
});

test("patterns match whole names; * is any run of characters", () => {
  assert.equal(matchesPattern("gpt-4o*", "gpt-4o-mini"), true);
  assert.equal(matchesPattern("gpt-4o", "gpt-4o-mini"), false);
  assert.equal(matchesPattern("claude-*", "claude-3.5"), true);
  assert.equal(matchesPattern("*.claude-*", "anthropic.claude-3"), true);
  assert.equal(matchesPattern("gpt-4o*", "my-gpt-4o"), false);
  assert.equal(
    checkPolicy({ models: ["a*"] }, { provider: "p", model: null }, undefined).violation,
    null,
  );
});

test("policy errors name the file and the key: unknown keys, bad dates, bad patterns", () => {
  const bad: Array<[unknown, RegExp]> = [
    [
      { requireRegistered: "yes" },
      /"policy\.requireRegistered" in p\.jsonc: expected true or false/,
    ],
    [
      { strict: true },
      /"policy\.strict" in p\.jsonc: expected one of attestations, requireRegistered, models/,
    ],
    [
      { attestations: { a: { expires: "30/06/2027" } } },
      /"policy\.attestations\.a\.expires" in p\.jsonc: expected a date YYYY-MM-DD, got "30\/06\/2027"/,
    ],
    [{ attestations: { a: { expires: "2027-02-30" } } }, /"policy\.attestations\.a\.expires"/],
    [
      { attestations: { a: { models: ["gpt 4"] } } },
      /"policy\.attestations\.a\.models\[0\]" in p\.jsonc: expected a name or pattern/,
    ],
    [{ models: "gpt-4o" }, /"policy\.models" in p\.jsonc: expected a list of names or patterns/],
    [{ attestations: { a: { team: "x" } } }, /"policy\.attestations\.a\.team"/],
  ];
  for (const [policy, message] of bad) {
    assert.throws(() => parseConfigText(JSON.stringify({ policy }), "p.jsonc"), message);
  }
  const ok = parseConfigText(JSON.stringify({ policy: POLICY }), "p.jsonc");
  assert.deepEqual(ok.policy, POLICY);
  assert.throws(
    () => enableGuard({ policy: { models: [42] } as never }),
    /"policy\.models\[0\]" in enableGuard\(\) options/,
  );
});
