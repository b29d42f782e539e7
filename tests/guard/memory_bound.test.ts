/** What a live guard keeps per call is bounded: counts, never timings. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { disableGuard, enableGuard } from "../../mod.ts";
import { installNetwork } from "../support/fake_network.ts";
import { aiCalls } from "../support/records.ts";

test("1,200 unattested calls: the guard's memory ring keeps the newest 1,000, one stack array a site", async () => {
  const net = installNetwork();
  const guard = enableGuard({ mode: "report", sinks: ["memory"], discover: false });
  try {
    for (let i = 0; i < 1200; i++) {
      await fetch("https://api.openai.com/v1/chat/completions", {
        method: "POST",
        body: JSON.stringify({ model: `m-${i}` }),
      });
    }
    const records = aiCalls(guard.records());
    assert.equal(guard.stats().calls, 1200);
    assert.equal(records.length, 1000);
    assert.equal(records[0]!.model, "m-200", "the oldest 200 were let go");
    assert.equal(records.at(-1)!.model, "m-1199");
    assert.equal(new Set(records.map((r) => r.stack)).size, 1, "one call site, one stack array");
  } finally {
    await disableGuard();
    net.restore();
  }
});
