/**
 * Node's fetch under the guard: the fetch wrapper decides an AI call, and the undici layer below
 * (the `undici:request:create` channel) leaves it as it is without classifying its URL again.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { disableGuard, enableGuard } from "../../../mod.ts";
import { startMockAiServer } from "../../support/mock_ai_server.ts";
import { aiCalls } from "../../support/records.ts";

/** A host rule that counts how often a URL is classified against it. */
class CountingHost extends RegExp {
  count = 0;
  override exec(text: string): RegExpExecArray | null {
    this.count++;
    return super.exec(text);
  }
}

test("one classification per AI call: the undici layer skips a call the fetch wrapper decided", async () => {
  const server = await startMockAiServer();
  const host = new CountingHost("^127\\.0\\.0\\.1(?::\\d+)?$");
  const guard = enableGuard({
    mode: "report",
    sinks: ["memory"],
    discover: false,
    providers: [{ provider: "loopback-ai", host, operation: "chat" }],
  });
  try {
    const response = await fetch(`${server.url}/internal/answer`, { method: "POST", body: "{}" });
    await response.arrayBuffer();
    const records = aiCalls(guard.records());
    assert.equal(records.length, 1, "the call is recorded once");
    assert.equal(records[0]!.detector, "fetch", "by the fetch wrapper");
    assert.equal(host.count, 1, "its URL was classified once, by the fetch wrapper only");
  } finally {
    await disableGuard();
    await server.close();
  }
});
