// Memory: RSS growth after 1,000,000 unattested calls in report mode with the default sinks and
// report settings, as a user without a daemon runs it (the report file under a fresh HOME, 10 MiB
// and 3 backups; the npm build on Node and Bun, the source on Deno). The underlying fetch answers
// at once; the event loop gets a turn every 1,000 calls, as an app's I/O would give it. Prints
// RSS and heap before/after in MiB, the drops the queue counted, and how much of the RSS is V8's
// young generation: V8 grows it (up to its maximum, 2 × --max-semi-space-size) by the bytes that
// survive its scavenges, however short their life after that (what the guard keeps past a call —
// the memory ring's newest 1,000, the queue's records until written — is kept as field values and
// bytes so that little does: bench/NOTES.md). Heap used after a full collection is what the guard
// still holds.
import { rm } from "node:fs/promises";
import * as v8 from "node:v8";
import { collectGarbage, freshHome, userEntry } from "./_stats.ts";

const { enableGuard } = await userEntry();

const N = Number(
  (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ?? process.argv[2] ?? 1_000_000,
);
const rss = () => process.memoryUsage().rss / 1024 / 1024;
const heap = () => process.memoryUsage().heapUsed / 1024 / 1024;
/** V8's young generation, MiB; NaN where the runtime does not say (Bun). */
const newSpace = () => {
  try {
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
    return space ? space.space_size / 1024 / 1024 : NaN;
  } catch {
    return NaN;
  }
};
const { home } = await freshHome();
const answer = Promise.resolve(new Response("{}"));
globalThis.fetch = (() => answer) as typeof fetch;
// discover: false: the app's one transport is fetch (the preload's start is preload_start.ts).
const guard = enableGuard({ mode: "report", discover: false });
const body = JSON.stringify({ model: "gpt-4o-mini" });
// Warm up with the measured loop's pattern: a tight loop without event-loop turns would only fill
// the queue before any write can happen (and count those drops).
for (let i = 0; i < 20_000; i++) {
  await fetch("https://api.openai.com/v1/chat/completions", { method: "POST", body });
  if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 0));
}
await guard.flush();
collectGarbage();
const before = rss();
const newSpaceBefore = newSpace();
const heapBefore = heap();
const start = performance.now();
for (let i = 0; i < N; i++) {
  await fetch("https://api.openai.com/v1/chat/completions", { method: "POST", body });
  if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 0));
}
await guard.flush();
collectGarbage();
const after = rss();
const newSpaceAfter = newSpace();
const heapAfter = heap();
const stats = guard.stats();
await guard.disable();
await rm(home, { recursive: true, force: true });
console.log(JSON.stringify({
  calls: N,
  rss_before_mib: before,
  rss_after_mib: after,
  rss_growth_mib: after - before,
  heap_growth_mib: heapAfter - heapBefore,
  new_space_before_mib: newSpaceBefore,
  new_space_growth_mib: newSpaceAfter - newSpaceBefore,
  dropped: stats.dropped,
  us_per_unattested_call: ((performance.now() - start) * 1000) / N,
}));
