// Per-call overhead on a real SDK call: the openai SDK's chat.completions.create against a loopback
// mock server, N sequential calls, one variant per process (bench/run.mjs alternates the variants
// over several processes and takes medians; patching and unpatching inside one process would
// measure V8's deoptimisations, not the guard):
//   baseline   no guard
//   attested   guard in report mode (clients: [OpenAI], discover: false), every call attested
//   unattested guard in report mode, no call attested (one record per call, file sink)
//   peer       @opentelemetry/instrumentation-openai + OTel SDK with an in-memory exporter (Node)
// Prints {"variant", "n", "us_per_call"} as JSON.
import { createRequire } from "node:module";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { attest, enableGuard } from "../mod.ts";
import { startMockAiServer } from "../tests/support/mock_ai_server.ts";

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const variant = args[0] ?? "baseline";
const N = Number(args[1] ?? 20_000);
const server = await startMockAiServer();
const dir = await mkdtemp(join(tmpdir(), "aiguard-bench-sdk-"));
const client = new OpenAI({ apiKey: "sk-bench", baseURL: `${server.url}/v1`, maxRetries: 0 });
const body = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "hi" }] };
let call = () => client.chat.completions.create(body);
let finish = async () => {};

if (variant === "attested" || variant === "unattested") {
  const guard = enableGuard({
    mode: "report",
    clients: [OpenAI],
    // A service that uses one SDK: patch it, nothing else (the preload's cost at start is
    // bench/preload_start.ts).
    discover: false,
    reportPath: join(dir, "guard_log.jsonl"),
    socketPath: join(dir, "none.sock"),
    maxBytes: 256 * 1024 * 1024,
  });
  if (variant === "attested") call = attest(call);
  finish = () => guard.disable();
  await guard.ready;
} else if (variant === "peer") {
  const require = createRequire(import.meta.url);
  const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require(
    "@opentelemetry/sdk-trace-base",
  );
  const { OpenAIInstrumentation } = require("@opentelemetry/instrumentation-openai");
  const { trace } = require("@opentelemetry/api");
  const exporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  // Its declared range stops below openai 7; its own patch function still fits 7's classes, so
  // it is applied to the same SDK the other variants use (a like-for-like comparison).
  for (const definition of new OpenAIInstrumentation().getModuleDefinitions()) {
    definition.patch?.({ OpenAI }, "7");
  }
  finish = () => {
    if (exporter.getFinishedSpans().length === 0) throw new Error("the peer made no spans");
    return Promise.resolve();
  };
}

for (let i = 0; i < 500; i++) await call(); // warm up
const start = performance.now();
for (let i = 0; i < N; i++) await call();
const elapsed = performance.now() - start;
await finish();
await server.close();
await rm(dir, { recursive: true, force: true });
console.log(JSON.stringify({ variant, n: N, us_per_call: (elapsed * 1000) / N }));
