// @runtimes deno bun node
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import Groq from "groq-sdk";
import { Mistral } from "@mistralai/mistralai";
import { Ollama } from "ollama";
import { generateText } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { attest, AttestationError, disableGuard, enableGuard, type GuardRecord } from "../mod.ts";
import { ownerOf } from "../src/detect/patcher.ts";
import { discoverClients } from "../src/detect/discover.ts";
import { registry } from "../src/registry.ts";
import {
  freshContext,
  lineHere,
  type MockAiServer,
  startMockAiServer,
} from "./support/mock_ai_server.ts";
import { aiCalls } from "./support/records.ts";

let server: MockAiServer;
// Constructed before any guard is enabled: the SDK layer must still catch its calls.
let early: OpenAI;

before(async () => {
  server = await startMockAiServer();
  early = new OpenAI({ apiKey: "sk-test", baseURL: `${server.url}/v1`, maxRetries: 0 });
});
after(() => server.close());

const CLIENTS = [OpenAI, Anthropic, GoogleGenAI, Groq, Mistral, Ollama];

beforeEach(freshContext);

function report() {
  return enableGuard({ mode: "report", sinks: ["memory"], clients: CLIENTS });
}

const THIS_FILE = /^tests\/guard_sdk\.test\.ts:/;

function assertSite(record: GuardRecord, line: number) {
  assert.match(record.call_site ?? "", THIS_FILE, `call site ${record.call_site}`);
  assert.equal(Number(record.call_site!.split(":")[1]), line, `call site ${record.call_site}`);
  assert.equal(record.stack[0], record.call_site);
}

test("openai: an unattested chat call yields exactly one record with its call site", async () => {
  const guard = report();
  try {
    const line = lineHere() + 1;
    const completion = await early.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(completion.choices[0]!.message.content, "hello from mock");
    const records = aiCalls(guard.records());
    assert.equal(records.length, 1);
    const r = records[0]!;
    assert.equal(r.provider, "openai");
    assert.equal(r.operation, "chat");
    assert.equal(r.model, "gpt-4o-mini");
    assert.equal(r.target, "openai.chat.completions.create");
    assert.equal(r.detector, "sdk");
    assert.equal(r.action, "reported");
    assert.equal(r.attested, false);
    assert.equal(r.server, "127.0.0.1");
    assertSite(r, line);
  } finally {
    await guard.disable();
  }
});

test("openai: an attested call yields no record", async () => {
  const guard = report();
  try {
    const reviewed = attest(() =>
      early.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
      })
    );
    const completion = await reviewed();
    assert.equal(completion.choices[0]!.message.content, "hello from mock");
    assert.equal(aiCalls(guard.records()).length, 0);
    assert.equal(guard.stats().calls, 1);
    assert.equal(guard.stats().unattested, 0);
  } finally {
    await guard.disable();
  }
});

test("traceAttested: an attested SDK call gives one allowed record with its attestation and site", async () => {
  const guard = enableGuard({
    mode: "report",
    sinks: ["memory"],
    clients: CLIENTS,
    traceAttested: true,
  });
  try {
    let line = 0;
    // Not `return early...create()`: JavaScriptCore (Bun) runs strict-mode tail calls without a frame.
    const reviewed = attest(async () => {
      line = lineHere() + 1;
      const completion = await early.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
      });
      return completion;
    }, { id: "summarizer", reason: "reviewed in #12" });
    await reviewed();
    const records = aiCalls(guard.records());
    assert.equal(records.length, 1);
    const r = records[0]!;
    assert.equal(r.action, "allowed");
    assert.equal(r.attested, true);
    assert.deepEqual(r.attestation, { id: "summarizer", reason: "reviewed in #12" });
    assert.equal(r.model, "gpt-4o-mini");
    assert.equal(r.detector, "sdk");
    assertSite(r, line);
    assert.deepEqual(guard.stats(), { calls: 1, unattested: 0, blocked: 0, dropped: 0 });
  } finally {
    await guard.disable();
  }
});

test("openai: streams, .withResponse() and embeddings behave as without the guard", async () => {
  const guard = report();
  try {
    const stream = await early.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    assert.equal(text, "hello");
    const { data, response } = await early.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(data.id, "chatcmpl-mock");
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-request-id"), "req_mock");
    const embedding = await early.embeddings.create({
      model: "text-embedding-3-small",
      input: "x",
    });
    assert.deepEqual(embedding.data[0]!.embedding, [0.1, 0.2, 0.3]);
    const records = aiCalls(guard.records());
    assert.deepEqual(records.map((r) => [r.operation, r.model, r.target]), [
      ["chat", "gpt-4o-mini", "openai.chat.completions.create"],
      ["chat", "gpt-4o", "openai.chat.completions.create"],
      ["embeddings", "text-embedding-3-small", "openai.embeddings.create"],
    ]);
  } finally {
    await guard.disable();
  }
});

test("openai: 4xx and 5xx errors reach the caller unchanged", async () => {
  const guard = report();
  try {
    for (const status of [400, 500]) {
      await assert.rejects(
        early.chat.completions.create({ model: `error-${status}`, messages: [] }),
        (error: unknown) => error instanceof OpenAI.APIError && error.status === status,
      );
    }
    assert.equal(aiCalls(guard.records()).length, 2);
  } finally {
    await guard.disable();
  }
});

test("anthropic: messages.create and messages.stream are caught once each", async () => {
  const client = new Anthropic({ apiKey: "sk-ant-test", baseURL: server.url, maxRetries: 0 });
  const guard = report();
  try {
    const createLine = lineHere() + 1;
    const message = await client.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 10,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(message.content[0]?.type, "text");
    const streamLine = lineHere() + 1;
    const stream = client.messages.stream({
      model: "claude-haiku-4-5",
      max_tokens: 10,
      messages: [{ role: "user", content: "hi" }],
    });
    const final = await stream.finalText();
    assert.equal(final, "hello");
    const records = aiCalls(guard.records());
    assert.equal(records.length, 2);
    assert.deepEqual(records.map((r) => [r.provider, r.operation, r.model, r.target]), [
      ["anthropic", "chat", "claude-sonnet-4-5", "anthropic.messages.create"],
      ["anthropic", "chat", "claude-haiku-4-5", "anthropic.messages.create"],
    ]);
    assertSite(records[0]!, createLine);
    assertSite(records[1]!, streamLine);
  } finally {
    await guard.disable();
  }
});

test("google genai: generateContent on a client built after the guard", async () => {
  const guard = report();
  try {
    const ai = new GoogleGenAI({ apiKey: "g-test", httpOptions: { baseUrl: server.url } });
    const line = lineHere() + 1;
    const response = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
    assert.equal(response.text, "hello from mock");
    const records = aiCalls(guard.records());
    assert.equal(records.length, 1);
    assert.equal(records[0]!.provider, "gcp.gemini");
    assert.equal(records[0]!.operation, "generate_content");
    assert.equal(records[0]!.model, "gemini-2.5-flash");
    assert.equal(records[0]!.target, "google_genai.models.generateContent");
    assertSite(records[0]!, line);
  } finally {
    await guard.disable();
  }
});

test("google genai: a client built before the guard is caught by the fetch layer", async () => {
  const ai = new GoogleGenAI({ apiKey: "g-test", httpOptions: { baseUrl: server.url } });
  const guard = report();
  try {
    const response = await ai.models.generateContent({ model: "gemini-2.5-pro", contents: "hi" });
    assert.equal(response.text, "hello from mock");
    const records = aiCalls(guard.records());
    assert.equal(records.length, 1);
    assert.equal(records[0]!.detector, "fetch");
    assert.equal(records[0]!.operation, "generate_content");
    assert.equal(records[0]!.model, "gemini-2.5-pro");
  } finally {
    await guard.disable();
  }
});

test("groq, mistral and ollama clients are caught by the SDK layer", async () => {
  const groq = new Groq({ apiKey: "gsk-test", baseURL: server.url, maxRetries: 0 });
  const mistral = new Mistral({ apiKey: "m-test", serverURL: server.url });
  const ollama = new Ollama({ host: server.url });
  const guard = report();
  try {
    const g = await groq.chat.completions.create({
      model: "llama-3.3-70b",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(g.choices[0]!.message.content, "hello from mock");
    const m = await mistral.chat.complete({
      model: "mistral-small",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(m.choices?.[0]?.message?.content, "hello from mock");
    const o = await ollama.chat({
      model: "llama3.2",
      messages: [{ role: "user", content: "hi" }],
      stream: false,
    });
    assert.equal(o.message.content, "hello");
    const records = aiCalls(guard.records());
    assert.deepEqual(records.map((r) => [r.provider, r.operation, r.model, r.target, r.detector]), [
      ["groq", "chat", "llama-3.3-70b", "groq.chat.completions.create", "sdk"],
      ["mistral_ai", "chat", "mistral-small", "mistral.chat.complete", "sdk"],
      ["ollama", "chat", "llama3.2", "ollama.chat", "sdk"],
    ]);
  } finally {
    await guard.disable();
  }
});

test("vercel ai sdk: generateText through @ai-sdk/openai is caught once", async () => {
  const provider = createOpenAI({ apiKey: "sk-test", baseURL: `${server.url}/v1` });
  const guard = report();
  try {
    const { text } = await generateText({
      model: provider.chat("gpt-4o-mini"),
      prompt: "hi",
      maxRetries: 0,
    });
    assert.equal(text, "hello from mock");
    const records = aiCalls(guard.records());
    assert.equal(records.length, 1);
    assert.equal(records[0]!.detector, "fetch");
    assert.equal(records[0]!.operation, "chat");
    assert.equal(records[0]!.model, "gpt-4o-mini");
    assert.equal(records[0]!.provider, "openai_compatible");
  } finally {
    await guard.disable();
  }
});

test("1,000 concurrent SDK calls, half attested, give exactly 500 records", async () => {
  const guard = report();
  try {
    const call = () =>
      early.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
      });
    const attested = attest(call);
    await Promise.all(Array.from({ length: 1000 }, (_, i) => i % 2 ? attested() : call()));
    const records = aiCalls(guard.records());
    assert.equal(records.length, 500);
    assert.ok(records.every((r) => !r.attested && r.action === "reported"));
    assert.equal(guard.stats().calls, 1000);
    assert.equal(guard.stats().unattested, 500);
  } finally {
    await guard.disable();
  }
});

test("block mode: an unattested SDK call throws AttestationError and sends nothing", async () => {
  const guard = enableGuard({ mode: "block", sinks: ["memory"], clients: CLIENTS });
  try {
    const before = server.requests.length;
    await assert.rejects(
      async () => {
        await early.chat.completions.create({ model: "gpt-4o-mini", messages: [] });
      },
      (error: unknown) => {
        assert.ok(error instanceof AttestationError);
        assert.equal(error.name, "AttestationError");
        assert.match(error.message, /openai/);
        assert.match(error.message, /chat/);
        assert.match(error.message, /tests\/guard_sdk\.test\.ts:\d+:\d+/);
        assert.match(error.message, /wrap the calling function with attest\(\)/);
        return true;
      },
    );
    assert.equal(server.requests.length, before);
    const records = aiCalls(guard.records());
    assert.equal(records.length, 1);
    assert.equal(records[0]!.action, "blocked");
    const ok = await attest(() =>
      early.chat.completions.create({ model: "gpt-4o-mini", messages: [] })
    )();
    assert.equal(ok.id, "chatcmpl-mock");
    assert.equal(server.requests.length, before + 1);
    assert.equal(guard.stats().blocked, 1);
  } finally {
    await guard.disable();
  }
});

test("block mode: genai and mistral reject with AttestationError before sending", async () => {
  const ai = new GoogleGenAI({ apiKey: "g-test", httpOptions: { baseUrl: server.url } });
  const guard = enableGuard({ mode: "block", sinks: ["memory"], clients: CLIENTS });
  const mistral = new Mistral({ apiKey: "m-test", serverURL: server.url });
  try {
    const before = server.requests.length;
    await assert.rejects(
      ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" }),
      AttestationError,
    );
    await assert.rejects(
      mistral.chat.complete({ model: "mistral-small", messages: [] }),
      AttestationError,
    );
    assert.equal(server.requests.length, before);
  } finally {
    await guard.disable();
  }
});

test("warn mode: one warning per call site through the logger, naming the fix", async () => {
  const warnings: string[] = [];
  const guard = enableGuard({
    mode: "warn",
    sinks: ["memory"],
    clients: CLIENTS,
    logger: { warn: (m) => warnings.push(m) },
  });
  try {
    for (let i = 0; i < 3; i++) {
      await early.chat.completions.create({ model: "gpt-4o-mini", messages: [] });
    }
    await early.embeddings.create({ model: "text-embedding-3-small", input: "x" });
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /openai/);
    assert.match(warnings[0]!, /tests\/guard_sdk\.test\.ts:\d+:\d+/);
    assert.match(warnings[0]!, /wrap the calling function with attest\(\)/);
    assert.equal(aiCalls(guard.records()).filter((r) => r.action === "warned").length, 4);
  } finally {
    await guard.disable();
  }
});

test("the preload's discovery patches the SDKs that resolve from the app", async () => {
  const shared = registry();
  const before = shared.discover;
  shared.discover = () => discoverClients(); // what @aiguard/attest/auto registers
  const guard = enableGuard({ mode: "report", sinks: ["memory"] });
  try {
    await guard.ready;
    await early.chat.completions.create({ model: "gpt-4o-mini", messages: [] });
    const records = aiCalls(guard.records());
    assert.equal(records.length, 1);
    assert.equal(records[0]!.detector, "sdk");
  } finally {
    shared.discover = before;
    await guard.disable();
  }
});

test("discover: false patches only the listed clients; the fetch layer still sees the rest", async () => {
  const groqOwner = ownerOf(Groq.prototype, "methodRequest")!;
  const groqBefore = Object.getOwnPropertyDescriptor(groqOwner, "methodRequest");
  const guard = enableGuard({
    mode: "report",
    sinks: ["memory"],
    clients: [OpenAI],
    discover: false,
  });
  try {
    await guard.ready;
    const groqNow = Object.getOwnPropertyDescriptor(groqOwner, "methodRequest");
    assert.equal(groqNow!.value, groqBefore!.value, "groq-sdk must stay unpatched");
    await early.chat.completions.create({ model: "gpt-4o-mini", messages: [] });
    const groq = new Groq({ apiKey: "gsk-test", baseURL: server.url, maxRetries: 0 });
    await groq.chat.completions.create({ model: "llama-3.1-8b-instant", messages: [] });
    const records = aiCalls(guard.records());
    assert.deepEqual(records.map((r) => r.detector), ["sdk", "fetch"]);
  } finally {
    await guard.disable();
  }
});

test("reconfiguring patches nothing twice; disable restores every patched SDK method to the identical function", async () => {
  const before = {
    methodRequest: Object.getOwnPropertyDescriptor(OpenAI.prototype, "methodRequest"),
    create: Object.getOwnPropertyDescriptor(
      Object.getPrototypeOf(early.chat.completions),
      "create",
    ),
    anthropic: Object.getOwnPropertyDescriptor(
      Object.getPrototypeOf(Object.getPrototypeOf(new Anthropic({ apiKey: "x" }))),
      "methodRequest",
    ),
    ollamaChat: Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Ollama.prototype), "chat"),
  };
  const guard = report();
  try {
    assert.notEqual(OpenAI.prototype.methodRequest, before.methodRequest!.value);
    const patched = {
      fetch: globalThis.fetch,
      methodRequest: OpenAI.prototype.methodRequest,
      create: Object.getPrototypeOf(early.chat.completions).create,
      ollamaChat: Object.getPrototypeOf(Ollama.prototype).chat,
    };
    // Reconfiguring keeps every patch as it is: nothing is wrapped a second time.
    enableGuard({ mode: "report", sinks: ["memory"], clients: CLIENTS });
    assert.deepEqual({
      fetch: globalThis.fetch,
      methodRequest: OpenAI.prototype.methodRequest,
      create: Object.getPrototypeOf(early.chat.completions).create,
      ollamaChat: Object.getPrototypeOf(Ollama.prototype).chat,
    }, patched);
    await early.chat.completions.create({ model: "gpt-4o-mini", messages: [] });
    assert.equal(aiCalls(guard.records()).length, 1, "one call, one record");
    await guard.disable();
    assert.deepEqual(
      Object.getOwnPropertyDescriptor(OpenAI.prototype, "methodRequest"),
      before.methodRequest,
    );
    assert.deepEqual(
      Object.getOwnPropertyDescriptor(Object.getPrototypeOf(early.chat.completions), "create"),
      before.create,
    );
    assert.deepEqual(
      Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Ollama.prototype), "chat"),
      before.ollamaChat,
    );
    const off = enableGuard({ mode: "off", clients: CLIENTS });
    assert.equal(OpenAI.prototype.methodRequest, before.methodRequest!.value);
    await off.disable();
  } finally {
    await disableGuard();
  }
});
