// Per-call overhead on a real SDK call: the openai SDK's chat.completions.create against a
// loopback mock server, N sequential calls, in one of four variants (one variant per process):
//   baseline   no guard
//   attested   guard in report mode, every call inside attest()
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

const variant = (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ?? process.argv[2] ??
  "baseline";
const N = Number(
  (globalThis as { Deno?: { args: string[] } }).Deno?.args[1] ?? process.argv[3] ?? 20_000,
);
const server = await startMockAiServer();
server.requests.length = 0;
const dir = await mkdtemp(join(tmpdir(), "aiguard-bench-sdk-"));
const options = { apiKey: "sk-bench", baseURL: `${server.url}/v1`, maxRetries: 0 };
const body = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "hi" }] };

let client: OpenAI = new OpenAI(options);
let call = () => client.chat.completions.create(body);
let finish = async () => {};

if (variant === "attested" || variant === "unattested") {
  const guard = enableGuard({
    mode: "report",
    clients: [OpenAI],
    reportPath: join(dir, "guard_log.jsonl"),
    socketPath: join(dir, "none.sock"),
  });
  if (variant === "attested") call = attest(call);
  finish = () => guard.disable();
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
  const instrumentation = new OpenAIInstrumentation();
  // Its declared range stops below openai 7; its own patch function still fits 7's classes, so
  // it is applied to the same SDK the other variants use (a like-for-like comparison).
  for (const definition of instrumentation.getModuleDefinitions()) {
    definition.patch?.({ OpenAI }, "7");
  }
  client = new OpenAI(options);
  call = () => client.chat.completions.create(body);
  finish = async () => {
    if (exporter.getFinishedSpans().length === 0) throw new Error("the peer made no spans");
    exporter.reset();
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
