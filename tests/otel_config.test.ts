// @runtimes deno bun node
import { afterEach, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { trace } from "@opentelemetry/api";
import { configureOtel } from "../otel.ts";
import { enableGuard } from "../mod.ts";
import { freshContext } from "./support/mock_ai_server.ts";
import { installNetwork } from "./support/fake_network.ts";
import { startOtlpReceiver } from "./support/otlp_receiver.ts";

const ENV = [
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
];
let saved: Record<string, string | undefined> = {};
let restoreFetch = () => {};

beforeEach(async () => {
  await freshContext();
  saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
  for (const k of ENV) delete process.env[k];
  // AI calls are answered locally; everything else (the OTLP export) goes to the real fetch.
  const net = installNetwork({ passThrough: (url) => !url.includes("api.openai.com") });
  restoreFetch = net.restore;
});
afterEach(() => {
  restoreFetch();
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  trace.disable();
});

async function exportNow(): Promise<void> {
  const provider = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const real = (provider.getDelegate?.() ?? provider) as { forceFlush?: () => Promise<void> };
  await real.forceFlush?.();
}

async function aiCall(): Promise<void> {
  await fetch("https://api.openai.com/v1/embeddings", { method: "POST", body: '{"model":"e3"}' });
}

test("configureOtel() exports aiguard spans over OTLP/HTTP with service name and resource attributes", async () => {
  const receiver = await startOtlpReceiver();
  process.env.OTEL_RESOURCE_ATTRIBUTES = "team=from-env,region=eu";
  const guard = enableGuard({ mode: "report", sinks: "auto" });
  try {
    const configured = await configureOtel({
      serviceName: "billing",
      endpoint: receiver.url,
      protocol: "http/json",
      resourceAttributes: { team: "from-arg", "deployment.environment": "test" },
    });
    assert.equal(configured, true);
    await aiCall();
    await exportNow();
    const span = receiver.spans.find((s) => s.name === "aiguard.ai_call");
    assert.ok(span, `spans: ${JSON.stringify(receiver.spans)}`);
    assert.equal(span.kind, 3); // CLIENT, as OTLP numbers it
    assert.equal(span.attributes["gen_ai.operation.name"], "embeddings");
    assert.equal(span.attributes["gen_ai.request.model"], "e3");
    assert.equal(span.resource["service.name"], "billing");
    assert.equal(span.resource["team"], "from-env");
    assert.equal(span.resource["region"], "eu");
    assert.equal(span.resource["deployment.environment"], "test");
    // A provider is registered now: a second call does nothing.
    assert.equal(await configureOtel({ endpoint: receiver.url, protocol: "http/json" }), false);
  } finally {
    await guard.disable();
    await receiver.close();
  }
});

test("configureOtel(): OTEL_* variables win over arguments, and force replaces a provider", async () => {
  const first = await startOtlpReceiver();
  const second = await startOtlpReceiver();
  const guard = enableGuard({ mode: "report", sinks: ["otel"] });
  try {
    assert.equal(
      await configureOtel({ endpoint: first.url, protocol: "http/json", serviceName: "a" }),
      true,
    );
    process.env.OTEL_SERVICE_NAME = "svc-from-env";
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = second.url;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = "http/json";
    assert.equal(await configureOtel({ endpoint: first.url, serviceName: "b", force: true }), true);
    await aiCall();
    await exportNow();
    assert.equal(first.spans.length, 0);
    assert.equal(second.spans.length, 1);
    assert.equal(second.spans[0]!.resource["service.name"], "svc-from-env");
    assert.ok(second.contentTypes.every((t) => t.includes("json")));
  } finally {
    await guard.disable();
    await first.close();
    await second.close();
  }
});

test("configureOtel() rejects an unknown protocol with a clear error", async () => {
  await assert.rejects(
    configureOtel({ protocol: "grpc" as "http/json" }),
    /protocol must be http\/json or http\/protobuf, got grpc/,
  );
});
