// attest() cost: an attested no-op async function vs the bare one, awaited sequentially.
// Prints medians of 5 runs as JSON. The npm build on Node and Bun, the source on Deno.
import { median, userEntry } from "./_stats.ts";

const { attest } = await userEntry();

const N = 500_000;
const RUNS = 5;
// The thing measured: an async function that does nothing but resolve.
// deno-lint-ignore require-await
const bare = async (n: number) => n + 1;
const attested = attest(bare, { id: "bench" });

async function time(fn: (n: number) => Promise<number>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < N; i++) await fn(i);
  return ((performance.now() - start) * 1e6) / N;
}

await time(bare);
await time(attested);
const a: number[] = [];
const b: number[] = [];
for (let r = 0; r < RUNS; r++) {
  a.push(await time(bare));
  b.push(await time(attested));
}
console.log(JSON.stringify({
  bare_ns: median(a),
  attested_ns: median(b),
  added_ns: median(b) - median(a),
  ratio: median(b) / median(a),
}));
