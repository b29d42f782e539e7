// Child process for the rotation test: appends `count` numbered records in small batches through
// the node-fs storage, so several writers rotate one file at once.
import { createNodeFsStorage } from "../../src/storage/node_fs.ts";

const [path, writer, count, maxBytes] = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  process.argv.slice(2);
const storage = createNodeFsStorage({ path: path!, maxBytes: Number(maxBytes), backups: 3 });
const pad = "x".repeat(400);
for (let i = 0; i < Number(count); i += 10) {
  let lines = "";
  for (let j = i; j < i + 10; j++) lines += JSON.stringify({ v: 1, writer, n: j, pad }) + "\n";
  await storage.append(lines);
}
