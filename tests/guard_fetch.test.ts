import { beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { attest, AttestationError, disableGuard, enableGuard, type GuardRecord } from "../mod.ts";
import { runtimeKey } from "../src/runtime.ts";
import { freshContext, lineHere } from "./support/mock_ai_server.ts";
import { installNetwork } from "./support/fake_network.ts";
import { aiCalls } from "./support/records.ts";
import { OPENAI_SPELLINGS } from "./support/provider_urls.ts";

beforeEach(freshContext);

const chatBody = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "hi" }],
});

test("fetch to a provider host is one record with provider, operation and model", async () => {
  const net = installNetwork();
  const guard = enableGuard({ mode: "report", sinks: ["memory"] });
  try {
    const response = await fetch("https://api.openai.com/v1/chat/completions?api-version=1", {
      method: "POST",
      headers: { authorization: "Bearer sk-secret" },
      body: chatBody,
    });
    assert.equal((await response.json()).id, "chatcmpl-net");
    const [r, ...rest] = aiCalls(guard.records());
    assert.equal(rest.length, 0);
    assert.ok(r);
    assert.equal(r!.provider, "openai");
    assert.equal(r!.operation, "chat");
    assert.equal(r!.model, "gpt-4o-mini");
    assert.equal(r!.detector, "fetch");
    assert.equal(r!.server, "api.openai.com");
    assert.equal(r!.port, 443);
    assert.equal(r!.target, "fetch POST api.openai.com/v1/chat/completions");
    assert.equal(JSON.stringify(r).includes("sk-secret"), false);
    assert.equal(JSON.stringify(r).includes("api-version"), false);
    await fetch(
      "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent?key=AIza-secret-key",
      { method: "POST", headers: { "x-goog-api-key": "AIza-header-secret" }, body: "{}" },
    );
    const gemini = aiCalls(guard.records())[1]!;
    assert.equal(gemini.provider, "gcp.gemini");
    assert.equal(gemini.model, "gemini-2.5-flash");
    assert.doesNotMatch(JSON.stringify(guard.records()), /AIza|key=|secret/);
  } finally {
    await guard.disable();
    net.restore();
  }
});

test("a fetch record's call site is the calling line; an app's own stack formatter stays in charge", async () => {
  const net = installNetwork();
  const E = Error as { prepareStackTrace?: unknown };
  const hadOwn = Object.prototype.hasOwnProperty.call(E, "prepareStackTrace");
  const runtimeDefault = E.prepareStackTrace;
  const guard = enableGuard({ mode: "report", sinks: ["memory"] });
  const lineOf = (r: GuardRecord | undefined) => Number(r?.call_site?.split(":").at(-2));
  try {
    let line = lineHere() + 1;
    await fetch("https://api.openai.com/v1/embeddings", { method: "POST", body: "{}" });
    assert.equal(lineOf(aiCalls(guard.records())[0]), line, aiCalls(guard.records())[0]?.call_site);
    assert.equal(E.prepareStackTrace, runtimeDefault, "the runtime's formatter is put back");
    assert.equal(Object.prototype.hasOwnProperty.call(E, "prepareStackTrace"), hadOwn);
    // An app that formats stacks itself (source-map-support does): the guard uses its output.
    let used = 0;
    const own = (error: Error, frames: Array<Record<string, () => unknown>>) => {
      used++;
      return `${error}` +
        frames.map((f) =>
          `\n    at ${f.getFileName!()}:${f.getLineNumber!()}:${f.getColumnNumber!()}`
        ).join("");
    };
    E.prepareStackTrace = own;
    line = lineHere() + 1;
    await fetch("https://api.openai.com/v1/embeddings", { method: "POST", body: "{}" });
    assert.ok(used > 0);
    assert.equal(E.prepareStackTrace, own);
    assert.equal(lineOf(aiCalls(guard.records())[1]), line, aiCalls(guard.records())[1]?.call_site);
  } finally {
    if (hadOwn) E.prepareStackTrace = runtimeDefault;
    else delete E.prepareStackTrace;
    await guard.disable();
    net.restore();
  }
});

test("fetch judges the URL it sends: odd spellings of a provider host are recorded, or blocked unsent", async () => {
  const net = installNetwork();
  let guard = enableGuard({ mode: "report", sinks: ["memory"] });
  try {
    for (const url of OPENAI_SPELLINGS) await fetch(url);
    const records = aiCalls(guard.records());
    assert.equal(records.length, OPENAI_SPELLINGS.length);
    for (const r of records) assert.equal(r.server, "api.openai.com");
    await guard.disable();
    net.seen.length = 0;
    guard = enableGuard({ mode: "block", sinks: ["memory"] });
    for (const url of OPENAI_SPELLINGS) {
      await assert.rejects(fetch(url), AttestationError, JSON.stringify(url));
    }
    assert.deepEqual(net.seen, []);
  } finally {
    await guard.disable();
    net.restore();
  }
});

test("a response redirected to an AI endpoint is recorded when its body is read (Deno, Bun, workerd)", async () => {
  const original = globalThis.fetch;
  const readers = [Response.prototype.json, Response.prototype.text];
  // The network under the guard followed a redirect to an AI endpoint, as the runtime would.
  globalThis.fetch = (() => {
    const response = new Response("{}");
    Object.defineProperty(response, "redirected", { value: true });
    Object.defineProperty(response, "url", { value: "https://api.openai.com/v1/chat/completions" });
    return Promise.resolve(response);
  }) as typeof fetch;
  const guard = enableGuard({ mode: "block", sinks: ["memory"] });
  try {
    const response = await fetch("https://example.com/go", { method: "POST" });
    assert.equal(await response.text(), "{}");
    void response.body; // one record per response, however often it is read
    await attest(async () => await (await fetch("https://example.com/go")).json(), {
      id: "reviewed",
    })();
    const records = aiCalls(guard.records());
    // Node's undici layer sees each hop before it is sent: no late record there.
    if (runtimeKey() === "node") assert.deepEqual(records, []);
    else {
      assert.equal(records.length, 1, JSON.stringify(records));
      assert.equal(records[0]!.target, "fetch (redirected) api.openai.com/v1/chat/completions");
      assert.equal(records[0]!.action, "reported"); // too late to block
    }
  } finally {
    await guard.disable();
    globalThis.fetch = original;
  }
  assert.deepEqual([Response.prototype.json, Response.prototype.text], readers, "restored");
});

test("an OpenAI-compatible path on any host is caught; non-AI traffic passes untouched", async () => {
  const net = installNetwork();
  const guard = enableGuard({ mode: "report", sinks: ["memory"] });
  try {
    await fetch("http://127.0.0.1:9/v1/embeddings", { method: "POST", body: '{"model":"e5"}' });
    const plain = await fetch("http://127.0.0.1:9/health");
    assert.deepEqual(await plain.json(), { ok: true });
    await fetch(new Request("http://127.0.0.1:9/static/app.js"));
    // Speech on a self-hosted OpenAI-compatible server (LocalAI, vLLM).
    await fetch("http://127.0.0.1:9/v1/audio/speech", {
      method: "POST",
      body: '{"model":"tts-1"}',
    });
    const records = aiCalls(guard.records());
    assert.equal(records.length, 2);
    assert.equal(records[0]!.provider, "openai_compatible");
    assert.equal(records[0]!.operation, "embeddings");
    assert.equal(records[0]!.model, "e5");
    assert.equal(records[1]!.provider, "openai_compatible");
    assert.equal(records[1]!.operation, "generate_content");
    assert.equal(records[1]!.model, "tts-1");
    assert.equal(net.seen.length, 4);
  } finally {
    await guard.disable();
    net.restore();
  }
});

test("providers rules add hosts and paths with their own names; other paths stay ordinary traffic", async () => {
  const net = installNetwork();
  const guard = enableGuard({
    mode: "report",
    sinks: ["memory"],
    providers: [
      { provider: "acme_llm", host: "llm.acme.internal", operation: "chat" },
      { provider: "inhouse", path: "/inference/run" },
      { provider: "scorer", host: "svc.internal", path: /^\/score\/[a-z]+$/ },
    ],
  });
  try {
    await fetch("https://llm.acme.internal/generate", { method: "POST" });
    await fetch("https://svc.internal/inference/run?v=2", { method: "POST" });
    await fetch("https://svc.internal/score/toxicity", { method: "POST" });
    // Same hosts, paths no rule names: not AI calls.
    await fetch("https://svc.internal/inference/status");
    await fetch("https://svc.internal/score/toxicity/history");
    await fetch("https://other.internal/score/toxicity", { method: "POST" });
    const records = aiCalls(guard.records());
    assert.deepEqual(
      records.map((r) => [r.provider, r.operation, r.server]),
      [
        ["acme_llm", "chat", "llm.acme.internal"],
        ["inhouse", null, "svc.internal"],
        ["scorer", null, "svc.internal"],
      ],
    );
    assert.equal(net.seen.length, 6, "report mode lets every request through");
  } finally {
    await guard.disable();
    net.restore();
  }
});

test("block mode: fetch rejects with AttestationError and nothing reaches the network", async () => {
  const net = installNetwork();
  const guard = enableGuard({ mode: "block", sinks: ["memory"] });
  try {
    await assert.rejects(
      fetch("https://api.anthropic.com/v1/messages", { method: "POST", body: "{}" }),
      (error: unknown) => error instanceof AttestationError && /anthropic/.test(error.message),
    );
    assert.equal(net.seen.length, 0);
    await attest(() => fetch("https://api.anthropic.com/v1/messages", { method: "POST" }))();
    assert.equal(net.seen.length, 1);
    assert.equal(aiCalls(guard.records())[0]!.action, "blocked");
  } finally {
    await guard.disable();
    net.restore();
  }
});

test("an attested fetch is counted once and not recorded; traceAttested records it as allowed", async () => {
  const net = installNetwork();
  const call = attest(
    () => fetch("https://api.openai.com/v1/chat/completions", { method: "POST", body: chatBody }),
    { id: "reviewed" },
  );
  let guard = enableGuard({ mode: "block", sinks: ["memory"] });
  try {
    await call();
    assert.equal(aiCalls(guard.records()).length, 0);
    assert.deepEqual(guard.stats(), { calls: 1, unattested: 0, blocked: 0, dropped: 0 });
    await guard.disable();
    guard = enableGuard({ mode: "block", sinks: ["memory"], traceAttested: true });
    await call();
    const [r, ...rest] = aiCalls(guard.records());
    assert.equal(rest.length, 0);
    assert.equal(r!.action, "allowed");
    assert.equal(r!.detector, "fetch");
    assert.equal(r!.model, "gpt-4o-mini");
    assert.deepEqual(r!.attestation, { id: "reviewed", reason: null });
    assert.equal(net.seen.length, 2);
  } finally {
    await guard.disable();
    net.restore();
  }
});

test("off mode patches nothing; disable restores the identical fetch", async () => {
  const net = installNetwork();
  const original = globalThis.fetch;
  try {
    enableGuard({ mode: "off" });
    assert.equal(globalThis.fetch, original);
    enableGuard({ mode: "report", sinks: ["memory"] });
    assert.notEqual(globalThis.fetch, original);
    const wrapped = globalThis.fetch;
    enableGuard({ mode: "block", sinks: ["memory"] });
    assert.equal(globalThis.fetch, wrapped, "a second enableGuard() must not wrap again");
    await disableGuard();
    assert.equal(globalThis.fetch, original);
    const guard = enableGuard({ mode: "report", sinks: ["memory"] });
    await fetch("https://api.openai.com/v1/embeddings", { method: "POST" });
    assert.equal(aiCalls(guard.records()).length, 1);
    await guard.disable();
    assert.equal(globalThis.fetch, original);
  } finally {
    await disableGuard();
    net.restore();
  }
});

test("a broken logger, sink or onRecord never breaks the host app's call", async () => {
  const net = installNetwork();
  const calls = { sink: 0, logger: 0, onRecord: 0 };
  const broken = {
    sinks: [() => {
      calls.sink++;
      throw new Error("sink down");
    }],
    logger: {
      warn() {
        calls.logger++;
        throw new Error("logger down");
      },
    },
    onRecord() {
      calls.onRecord++;
      throw new Error("callback down");
    },
  };
  try {
    for (const mode of ["warn", "report"] as const) {
      const guard = enableGuard({ mode, ...broken });
      try {
        const response = await fetch("https://api.openai.com/v1/chat/completions", {
          method: "POST",
          body: chatBody,
        });
        assert.equal(response.status, 200);
        assert.equal((await response.json()).id, "chatcmpl-net");
        assert.equal(aiCalls(guard.records()).length, 1, `${mode}: the guard saw the call`);
      } finally {
        await guard.disable();
      }
    }
    // Every broken piece was called, and threw, while the calls went through.
    assert.equal(calls.onRecord, 2);
    assert.equal(calls.sink, 1, "report mode sends the record down the sinks");
    assert.ok(calls.logger >= 2, "warn mode's warning and report mode's sink failure notice");
  } finally {
    net.restore();
  }
});

test("invalid options name the key and what was expected", () => {
  assert.throws(
    () => enableGuard({ mode: "loud" as "warn" }),
    /"mode".*one of off, warn, report, block/,
  );
  assert.throws(
    () => enableGuard({ maxBytes: -1 }),
    /"maxBytes".*an integer ≥ 1024/,
  );
  assert.throws(
    () => enableGuard({ colour: true } as never),
    /"colour"/,
  );
  assert.throws(
    () => enableGuard({ providers: [{ provider: "x" }] }),
    /providers\[0\] needs a host or a path/,
  );
});
