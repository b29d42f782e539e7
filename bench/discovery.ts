// What auto-discovery costs at start: enableGuard() with `discover: true` imports every supported
// AI SDK that resolves from here (all six are installed in this repository), used or not.
// Prints the heap and RSS it added (after a GC) and the time until `guard.ready`.
import { enableGuard } from "../mod.ts";
import { collectGarbage } from "./_stats.ts";

const mib = (bytes: number) => bytes / 1024 / 1024;
collectGarbage();
const before = process.memoryUsage();
const start = performance.now();
const guard = enableGuard({ mode: "report", sinks: ["memory"] });
await guard.ready;
const readyMs = performance.now() - start;
collectGarbage();
const after = process.memoryUsage();
await guard.disable();
console.log(JSON.stringify({
  ready_ms: readyMs,
  heap_added_mib: mib(after.heapUsed - before.heapUsed),
  rss_added_mib: mib(after.rss - before.rss),
}));
