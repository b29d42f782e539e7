// Memory: RSS growth after 1,000,000 unattested calls in report mode with the file sink (the
// underlying fetch answers at once; the event loop gets a turn every 1,000 calls, as an app's
// I/O would give it). Prints RSS before/after in MiB and the drops the queue counted.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enableGuard } from "../mod.ts";
import { collectGarbage } from "./_stats.ts";

const N = Number(
  (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ?? process.argv[2] ?? 1_000_000,
);
const rss = () => process.memoryUsage().rss / 1024 / 1024;
const heap = () => process.memoryUsage().heapUsed / 1024 / 1024;
const dir = await mkdtemp(join(tmpdir(), "aiguard-bench-mem-"));
const answer = Promise.resolve(new Response("{}"));
globalThis.fetch = (() => answer) as typeof fetch;
const guard = enableGuard({
  mode: "report",
  sinks: ["file"],
  reportPath: join(dir, "guard_log.jsonl"),
  maxBytes: 8 * 1024 * 1024,
  backups: 1,
  discover: false,
});
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
const heapBefore = heap();
const start = performance.now();
for (let i = 0; i < N; i++) {
  await fetch("https://api.openai.com/v1/chat/completions", { method: "POST", body });
  if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 0));
}
await guard.flush();
collectGarbage();
const after = rss();
const heapAfter = heap();
const stats = guard.stats();
await guard.disable();
await rm(dir, { recursive: true, force: true });
console.log(JSON.stringify({
  calls: N,
  rss_before_mib: before,
  rss_after_mib: after,
  rss_growth_mib: after - before,
  heap_growth_mib: heapAfter - heapBefore,
  dropped: stats.dropped,
  us_per_unattested_call: ((performance.now() - start) * 1000) / N,
}));
