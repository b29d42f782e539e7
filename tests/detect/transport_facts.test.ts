// @runtimes deno bun node
/** The one builder of transport facts: what every transport layer writes for a matched request. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  isCompatiblePath,
  matchUrl,
  operationForPath,
  serverOf,
  transportFacts,
} from "../../src/detect/providers.ts";

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

test("AI paths: one table gives the operation on a provider host and the any-host matches", () => {
  const cases: Array<[path: string, operation: string | null, anyHost: boolean]> = [
    ["/v1/chat/completions", "chat", true],
    ["/openai/deployments/d/chat/completions", "chat", false],
    ["/v1/completions", "text_completion", true],
    ["/v1/messages", "chat", true],
    ["/v1/embeddings/", "embeddings", true],
    ["/v2/embed", "embeddings", false],
    ["/v1beta/models/g:streamGenerateContent", "generate_content", true],
    ["/v1/projects/p/publishers/anthropic/models/c:rawPredict", "chat", false],
    ["/v1/realtime/client_secrets", "realtime", true],
    ["/v1/realtime/calls", "realtime", false],
    [
      "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent",
      "realtime",
      true,
    ],
    ["/api/chat", "chat", true],
    ["/v2/chat", "chat", false],
    ["/api/generate", "text_completion", true],
    ["/v1/images/generations", "generate_content", false],
    ["/v1/audio/speech", "generate_content", true],
    ["/v1/audio/transcriptions", "generate_content", true],
    ["/openai/deployments/d/audio/translations", "generate_content", false],
    ["/model/anthropic.claude-3/converse-stream", "chat", true],
    ["/model/m/invoke-with-response-stream", "generate_content", true],
    ["/v1/models", null, false],
  ];
  for (const [path, operation, anyHost] of cases) {
    assert.equal(operationForPath(path.replace(/\/+$/, "")), operation, path);
    assert.equal(matchUrl(`https://api.openai.com${path}`, [])?.operation, operation, path);
    const onAnyHost = matchUrl(`http://10.1.2.3:8080${path}`, []);
    assert.equal(onAnyHost?.provider ?? null, anyHost ? "openai_compatible" : null, path);
  }
  // After a base URL the scan cannot read, only the OpenAI-compatible API's own endings count.
  assert.deepEqual(
    [
      "/x/chat/completions",
      "/x/embeddings",
      "/x/responses",
      "/x/audio/speech",
      "/x/messages",
      "/x/api/chat",
    ].map(isCompatiblePath),
    [true, true, true, true, false, false],
  );
});
