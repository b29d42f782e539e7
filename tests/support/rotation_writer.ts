// Child process for the rotation tests: appends `count` numbered records through the node-fs
// storage, so several writers rotate one file at once. Batches of 10 records; with `mixed`, batches
// of 200 (large enough for the chain's writer thread) and 10 alternate, after a pause that lets the
// thread start, and the child prints how many batches it wrote on its own thread.
import { createNodeFsStorage } from "../../src/storage/node_fs.ts";
import { createRotatingFileStorage } from "../../src/storage/_rotating_file.ts";

const [path, writer, count, maxBytes, mode] =
  (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const mixed = mode === "mixed";
const options = { path: path!, maxBytes: Number(maxBytes), backups: 3 };
let here = 0;
const storage = mixed
  ? createRotatingFileStorage("node-fs", options, async (handle, data) => {
    here++;
    await handle.write(data);
  })
  : createNodeFsStorage(options);
const pad = "x".repeat(400);
let big = true;
let batches = 0;
for (let i = 0; i < Number(count);) {
  const size = mixed && big ? 200 : 10;
  big = !big;
  let lines = "";
  for (let j = i; j < Math.min(i + size, Number(count)); j++) {
    lines += JSON.stringify({ v: 1, writer, n: j, pad }) + "\n";
  }
  i += size;
  await storage.append(lines);
  if (batches++ === 0 && mixed) await new Promise((resolve) => setTimeout(resolve, 300));
}
if (mixed) console.log(JSON.stringify({ batches, here }));
