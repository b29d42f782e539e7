// The guard's own work per openai call, for instruction counts: the SDK's chat.completions.create
// with a `fetch` of its own that answers in process (no socket, no server), N sequential calls,
// one variant per process (baseline, attested, unattested as in bench/sdk_overhead.ts). Run it
// under callgrind at two N and take the slope, which leaves out start-up:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded \
//     bench/sdk_instructions.ts unattested 3000
// The default sinks' background queue drains on a 100 ms timer: under valgrind the number of
// batches follows the machine's load, and a batch costs far more than a record, so slopes with the
// default sinks vary by tens of thousands of instructions a call between runs.
// `AIGUARD_SINKS=memory` keeps the call path (hooks, capture, record, ring) without the queue.
// Node and Bun run the npm build (AIGUARD_BENCH_ENTRY selects another copy), Deno the source.
// Prints {"variant", "n", "calls"} as JSON.
import { rm } from "node:fs/promises";
import OpenAI from "openai";
import { freshHome, userEntry } from "./_stats.ts";

const { attest, enableGuard } = await userEntry();

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const variant = args[0] ?? "baseline";
const N = Number(args[1] ?? 1000);
const { home } = await freshHome();
const completion = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o-mini",
  choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
});
const client = new OpenAI({
  apiKey: "sk-bench",
  baseURL: "http://127.0.0.1:9/v1",
  maxRetries: 0,
  fetch: () =>
    Promise.resolve(
      new Response(completion, { status: 200, headers: { "content-type": "application/json" } }),
    ),
});
const body = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "hi" }] };
let call = () => client.chat.completions.create(body);
let calls = 0;
let finish = async () => {};

if (variant === "attested" || variant === "unattested") {
  const guard = enableGuard({ mode: "report", clients: [OpenAI], discover: false });
  if (variant === "attested") call = attest(call);
  finish = async () => {
    calls = guard.stats().calls;
    await guard.disable();
    if (calls !== N) throw new Error(`${calls} calls seen, ${N} made`);
  };
  await guard.ready;
}

for (let i = 0; i < N; i++) await call();
await finish();
await rm(home, { recursive: true, force: true });
console.log(JSON.stringify({ variant, n: N, calls }));
