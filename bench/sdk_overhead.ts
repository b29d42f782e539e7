// Per-call overhead on a real SDK call: the openai SDK's chat.completions.create against a loopback
// mock server, N sequential calls, one variant per process (bench/run.mjs alternates the variants
// over several processes and takes medians; patching and unpatching inside one process would
// measure V8's deoptimisations, not the guard):
//   baseline   no guard
//   attested   guard in report mode, every call attested
//   unattested guard in report mode, no call attested (one record per call)
//   peer       @opentelemetry/instrumentation-openai + OTel SDK with an in-memory exporter (Node)
// The guard runs as a user without a daemon gets it: the default sinks (`auto`: no OTel provider,
// no daemon socket under HOME, so the background queue into the report file), the default report
// path under a fresh HOME, through the npm build (dist/, `npm run build`) on Node and Bun and the
// source on Deno. It patches the one SDK the service uses (`clients`, `discover: false`); the
// preload's start cost is bench/preload_start.ts.
// Prints {"variant", "n", "us_per_call", "cpu_us_per_call", "records"} as JSON.
import { createRequire } from "node:module";
import { readFile, rm } from "node:fs/promises";
import OpenAI from "openai";
import { startMockAiServer } from "../tests/support/mock_ai_server.ts";
import { freshHome, userEntry } from "./_stats.ts";

const { attest, enableGuard } = await userEntry();

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const variant = args[0] ?? "baseline";
const N = Number(args[1] ?? 20_000);
const server = await startMockAiServer();
const { home, report } = await freshHome();
const client = new OpenAI({ apiKey: "sk-bench", baseURL: `${server.url}/v1`, maxRetries: 0 });
const body = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "hi" }] };
let call = () => client.chat.completions.create(body);
let finish = async () => {};
let records = 0;
const WARMUP = 500;

if (variant === "attested" || variant === "unattested") {
  const guard = enableGuard({ mode: "report", clients: [OpenAI], discover: false });
  if (variant === "attested") call = attest(call);
  finish = async () => {
    await guard.disable();
    const text = await readFile(report, "utf8").catch(() => "");
    records = text.split("\n").filter((line) => line.includes('"event":"ai_call"')).length;
    const expected = variant === "unattested" ? N + WARMUP : 0;
    if (records !== expected) throw new Error(`${records} records written, ${expected} expected`);
  };
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

for (let i = 0; i < WARMUP; i++) await call(); // warm up
const cpuStart = process.cpuUsage();
const start = performance.now();
for (let i = 0; i < N; i++) await call();
const elapsed = performance.now() - start;
const cpu = process.cpuUsage(cpuStart);
await finish();
await server.close();
await rm(home, { recursive: true, force: true });
// CPU time (user + system, the loopback server's included: it runs in this process) beside the
// wall time: on a busy machine it follows the work done more than the wall clock does.
console.log(JSON.stringify({
  variant,
  n: N,
  us_per_call: (elapsed * 1000) / N,
  cpu_us_per_call: (cpu.user + cpu.system) / N,
  records,
}));
