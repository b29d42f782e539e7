import { test } from "node:test";
import assert from "node:assert/strict";
import { startOtlpReceiver } from "../../support/otlp_receiver.ts";

test("Deno's built-in OpenTelemetry (OTEL_DENO=true) exports the aiguard.ai_call span", async () => {
  const receiver = await startOtlpReceiver();
  const dir = await Deno.makeTempDir({ prefix: "aiguard-denootel-" });
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../../support/guarded_child.ts", import.meta.url).pathname],
      env: {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_SERVICE_NAME: "deno-billing",
        AIGUARD_MODE: "report",
        AIGUARD_REPORT_PATH: `${dir}/guard_log.jsonl`,
        AIGUARD_SOCKET: `${dir}/none.sock`,
        AIGUARD_CHILD_CALLS: "2",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const spans = receiver.spans.filter((s) => s.name === "aiguard.ai_call");
    assert.equal(spans.length, 2, JSON.stringify(receiver.spans.map((s) => s.name)));
    assert.deepEqual(spans.map((s) => s.attributes["gen_ai.request.model"]).sort(), [
      "child-0",
      "child-1",
    ]);
    assert.equal(spans[0]!.attributes["gen_ai.provider.name"], "openai");
    assert.equal(spans[0]!.attributes["aiguard.action"], "reported");
    assert.equal(spans[0]!.resource["service.name"], "deno-billing");
    // The span took the record: nothing went to the file.
    await assert.rejects(Deno.stat(`${dir}/guard_log.jsonl`));
  } finally {
    await receiver.close();
    await Deno.remove(dir, { recursive: true });
  }
});
