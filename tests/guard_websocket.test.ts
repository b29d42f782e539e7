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
    // Attested: constructed (it fails to connect later, which the app's own handlers see).
    const socket = attest(() => new Tagged("wss://api.openai.com/v1/realtime"))();
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
