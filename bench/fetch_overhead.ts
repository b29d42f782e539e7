// What every non-AI fetch of the host app pays for the guard:
//  - micro: the wrapper over a no-op underlying fetch, ns per call, guard off vs on;
//  - real: sequential fetches to a non-AI loopback URL, guard off vs on, ratio.
// Prints medians of 11 alternating runs as JSON.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { microRounds, pairedRounds, userEntry } from "./_stats.ts";

// As users run it (the npm build on Node and Bun, the source on Deno), with the default sinks: a
// non-AI call writes no record, so no sink is involved.
const { disableGuard, enableGuard } = await userEntry();

const MICRO_N = 1_000_000;
const REAL_N = 3_000;
const RUNS = 11;
// discover: false: no SDK is patched; only the layers are measured.
const on = () => enableGuard({ mode: "report", discover: false });
const url = "http://127.0.0.1:8080/static/app.js?v=3";

const realFetch = globalThis.fetch;
const done = Promise.resolve(new Response(null));
globalThis.fetch = (() => done) as typeof fetch;
const micro = await microRounds(() => void fetch(url), MICRO_N, on, disableGuard, RUNS);
globalThis.fetch = realFetch;

const server = createServer((_req, res) => res.end("ok"));
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
async function real(): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < REAL_N; i++) await (await fetch(target)).text();
  return (performance.now() - start) / REAL_N;
}
const real_ = await pairedRounds(real, on, disableGuard, RUNS, 3);
server.close();
console.log(JSON.stringify({
  micro_ns_off: micro.off,
  micro_ns_on: micro.on,
  micro_ns_added: micro.added,
  real_ms_off: real_.off,
  real_ms_on: real_.on,
  real_ratio: real_.ratio,
}));
