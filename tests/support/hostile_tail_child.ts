// A child process for the hostile-chain-state test: an app with a heartbeat timer whose guard
// writes to reports that end in hostile lines. Appends one record asynchronously and one through
// the exit path's synchronous write to each report given, then prints how often the heartbeat
// ticked meanwhile, and ends.
import process from "node:process";
import { createNodeFsStorage } from "../../src/storage/node_fs.ts";

const paths = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
let ticks = 0;
const heartbeat = setInterval(() => ticks++, 5);
const t0 = performance.now();
for (const path of paths) {
  const storage = createNodeFsStorage({ path });
  await storage.appendLines!([JSON.stringify({ v: 1, event: "ai_call", n: 1 })]);
  storage.appendLinesSync([JSON.stringify({ v: 1, event: "ai_call", n: 2 })]);
  await storage.close();
  await new Promise((resolve) => setTimeout(resolve, 20)); // the app goes on between writes
}
clearInterval(heartbeat);
process.stdout.write(`ticks ${ticks} ms ${Math.round(performance.now() - t0)}\n`);
