// @runtimes deno bun node
/** The one builder of transport facts: what every transport layer writes for a matched request. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { matchUrl, serverOf, transportFacts } from "../../src/detect/providers.ts";

test("transportFacts: target, server, port and the model the path names", () => {
  const match = matchUrl(
    "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent",
    [],
  )!;
  assert.deepEqual(transportFacts(match, "undici", "undici POST"), {
    provider: "gcp.gemini",
    operation: "generate_content",
    model: "gemini-2.0-flash",
    target:
      "undici POST generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent",
    detector: "undici",
    server: "generativelanguage.googleapis.com",
    port: 443,
  });
  // A model read elsewhere (the body, the query) wins; null says none was read.
  assert.equal(transportFacts(match, "fetch", "fetch POST", "other").model, "other");
  assert.equal(transportFacts(match, "socket", "tls.connect", null).model, null);
});

test("transportFacts: a WebSocket with no operation of its own is a realtime session", () => {
  const match = matchUrl("wss://api.openai.com/v1/some/socket", [])!;
  assert.equal(match.operation, null);
  assert.equal(transportFacts(match, "websocket", "websocket").operation, "realtime");
  assert.equal(transportFacts(match, "http", "https GET").operation, null);
});

test("serverOf: an SDK's base URL as records name its server", () => {
  assert.deepEqual(serverOf("https://api.mistral.ai/v1"), { server: "api.mistral.ai", port: 443 });
  assert.deepEqual(serverOf("http://127.0.0.1:11434"), { server: "127.0.0.1", port: 11434 });
  for (const unset of [undefined, null, "", "api.mistral.ai", 42]) {
    assert.deepEqual(serverOf(unset), { server: null, port: null }, String(unset));
  }
});
