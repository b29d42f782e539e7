import { beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { enableGuard, type GuardRecord } from "../../../mod.ts";
import { freshContext, startMockAiServer } from "../../support/mock_ai_server.ts";

beforeEach(freshContext);

test("undici backstop reports an AI call that bypasses the patched fetch, once", async () => {
  const server = await startMockAiServer();
  // Captured before the guard, as a client library would: the fetch wrapper never sees it.
  const captured = globalThis.fetch;
  const guard = enableGuard({ mode: "block", sinks: ["memory"] });
  try {
    const response = await captured(`${server.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "m", messages: [] }),
    });
    assert.equal(response.status, 200);
    await response.text();
    const records = (guard.records() as GuardRecord[]).filter((r) => r.event === "ai_call");
    assert.equal(records.length, 1);
    assert.equal(records[0]!.detector, "undici");
    assert.equal(records[0]!.operation, "chat");
    // The backstop cannot stop a request that is already under way: it reports it.
    assert.equal(records[0]!.action, "reported");
    // Through the patched fetch the same call is one fetch record, not two.
    await attest_free_fetch(`${server.url}/v1/chat/completions`);
    const after = (guard.records() as GuardRecord[]).filter((r) => r.event === "ai_call");
    assert.equal(after.length, 2);
    assert.equal(after[1]!.detector, "fetch");
  } finally {
    await guard.disable();
    await server.close();
  }
});

async function attest_free_fetch(url: string): Promise<void> {
  await fetch(url, { method: "POST", body: "{}" }).then((r) => r.text(), () => undefined);
}
