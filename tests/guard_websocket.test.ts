/**
 * The global WebSocket on every runtime, workerd included: a realtime connection is decided in the
 * constructor, before the upgrade request. (The loopback cases with real servers are in
 * guard_transports.test.ts; this one needs no network: block mode sends nothing.)
 */
import { beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { attest, AttestationError, enableGuard, type GuardRecord } from "../mod.ts";
import { freshContext, lineHere } from "./support/mock_ai_server.ts";

beforeEach(freshContext);

test("block: new WebSocket() to OpenAI Realtime throws AttestationError naming the call site", () => {
  const Original = globalThis.WebSocket;
  const guard = enableGuard({ mode: "block", sinks: ["memory"] });
  try {
    const line = lineHere() + 2;
    assert.throws(
      () => new WebSocket("wss://api.openai.com/v1/realtime?model=gpt-realtime"),
      (error: unknown) => {
        assert.ok(error instanceof AttestationError);
        assert.equal(error.operation, "realtime");
        // The line of this file (workerd runs a bundle named worker.mjs: compare the line only).
        assert.equal(Number(error.callSite?.split(":").at(-2)), line, error.callSite ?? "");
        return true;
      },
    );
    const [r] = guard.records() as GuardRecord[];
    assert.equal(r?.detector, "websocket");
    assert.equal(r?.provider, "openai");
    assert.equal(r?.model, "gpt-realtime");
    assert.equal(r?.target, "websocket api.openai.com/v1/realtime");
    assert.equal(r?.action, "blocked");
    assert.doesNotMatch(JSON.stringify(r), /\?model=/, "no query string is written");
    // Gemini Live and Azure realtime are realtime calls too.
    assert.throws(
      () =>
        new WebSocket(
          "wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=AIza-secret",
        ),
      AttestationError,
    );
    assert.throws(
      () => new WebSocket("wss://my-res.openai.azure.com/openai/realtime?deployment=rt"),
      AttestationError,
    );
    const providers = (guard.records() as GuardRecord[]).map((x) => x.provider);
    assert.deepEqual(providers, ["openai", "gcp.gemini", "azure.ai.openai"]);
    assert.doesNotMatch(JSON.stringify(guard.records()), /AIza|key=/);
  } finally {
    guard.disable();
  }
  assert.equal(globalThis.WebSocket, Original, "disable puts the original class back");
});

test("an attested realtime connection is counted, not blocked; subclasses still construct", async () => {
  const guard = enableGuard({ mode: "block", sinks: ["memory"] });
  try {
    class Tagged extends WebSocket {
      tag = "mine";
    }
    // Attested: constructed (it fails to connect later, which the app's own handlers see). A
    // Realtime path on a loopback port nothing listens on: an AI call on any host, no network.
    const socket = attest(() => new Tagged("ws://127.0.0.1:9/v1/realtime"))();
    socket.addEventListener("error", () => {});
    assert.equal(socket.tag, "mine");
    assert.ok(socket instanceof WebSocket);
    socket.close();
    assert.deepEqual(guard.records(), []);
    assert.equal(guard.stats().calls, 1);
  } finally {
    await guard.disable();
  }
});

test("block: a web-chat hub (Bing's ChatHub, Character.AI, Perplexity) throws before connecting", () => {
  const guard = enableGuard({ mode: "block", sinks: ["memory"] });
  try {
    const hubs: Array<[url: string, provider: string]> = [
      [
        "wss://sydney.bing.com/sydney/ChatHub?sec_access_token=secret-token",
        "microsoft.copilot_web",
      ],
      ["wss://neo.character.ai/ws/", "character_ai.character_web"],
      ["wss://www.perplexity.ai/socket.io/?EIO=4&transport=websocket", "perplexity.perplexity_web"],
    ];
    for (const [url, provider] of hubs) {
      assert.throws(() => new WebSocket(url), (error: unknown) => {
        assert.ok(error instanceof AttestationError, String(error));
        assert.equal(error.provider, provider);
        assert.equal(error.operation, "chat");
        return true;
      });
    }
    const records = guard.records() as GuardRecord[];
    assert.deepEqual(records.map((r) => [r.provider, r.operation, r.action]), [
      ["microsoft.copilot_web", "chat", "blocked"],
      ["character_ai.character_web", "chat", "blocked"],
      ["perplexity.perplexity_web", "chat", "blocked"],
    ]);
    assert.equal(records[0]!.target, "websocket sydney.bing.com/sydney/ChatHub");
    assert.doesNotMatch(JSON.stringify(records), /secret-token|EIO=/, "no query string is written");
  } finally {
    guard.disable();
  }
});

test("report: a web-chat hub is one record and is constructed; the same hosts' other sockets are not recorded", () => {
  // The sites cannot be reached from a test: a stand-in class takes the runtime's place before the
  // guard wraps it, and keeps what was constructed (nothing connects). Reading the runtime's class
  // first makes Node load it, so the guard wraps the global as it is.
  const Original = globalThis.WebSocket;
  const constructed: string[] = [];
  class StandIn {
    url: string;
    constructor(url: string) {
      this.url = url;
      constructed.push(url);
    }
  }
  (globalThis as { WebSocket: unknown }).WebSocket = StandIn;
  const guard = enableGuard({ mode: "report", sinks: ["memory"] });
  try {
    assert.equal(globalThis.WebSocket.prototype, StandIn.prototype, "the guard wraps the stand-in");
    const urls = [
      "wss://sydney.bing.com/sydney/ChatHub",
      "wss://www.bing.com/sydney/ChatHub",
      "wss://neo.character.ai/chat/other",
      "wss://moss.fastnlp.top/api/ws/chats/42/records?jwt=secret-jwt",
      "wss://www.perplexity.ai/other/socket",
    ];
    for (const url of urls) {
      const socket = new WebSocket(url) as unknown as StandIn;
      assert.ok(socket instanceof StandIn);
      assert.equal(socket.url, url);
    }
    assert.deepEqual(constructed, urls);
    const records = guard.records() as GuardRecord[];
    assert.deepEqual(records.map((r) => [r.provider, r.operation, r.target, r.action]), [
      ["microsoft.copilot_web", "chat", "websocket sydney.bing.com/sydney/ChatHub", "reported"],
      ["fudan.moss_web", "chat", "websocket moss.fastnlp.top/api/ws/chats/42/records", "reported"],
    ]);
    assert.doesNotMatch(JSON.stringify(records), /secret-jwt/);
  } finally {
    guard.disable();
    (globalThis as { WebSocket: unknown }).WebSocket = Original;
  }
});
