// Report throughput: records/s through aiguard's file path (bounded queue → node-fs storage with
// locked rotation, JSONL) next to pino writing the same objects to a file, in the same run.
// Prints medians of 5 runs and the ratio (ours / pino; ≥ 1.0 means at least as fast), and the same
// with the hash chain off (the chain's cost: chained / unchained).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { RecordQueue } from "../src/report/queue.ts";
import { createNodeFsStorage } from "../src/storage/node_fs.ts";
import { median, runtimeLabel, sampleRecord } from "./_stats.ts";

const N = 100_000;
const RUNS = 5;
const proc = { runtime: runtimeLabel(), service: "bench", pid: 1 };
const records = Array.from({ length: N }, (_, i) => sampleRecord(`src/app.ts:${i % 500}:7`));

async function ours(dir: string, chain = true): Promise<number> {
  const queue = new RecordQueue(
    createNodeFsStorage({ path: join(dir, "ours.jsonl"), maxBytes: 1024 ** 3, chain }),
    { capacity: N, proc, onDrop: () => {}, onFailure: (e) => console.error(e) },
  );
  const start = performance.now();
  for (const r of records) queue.push(r);
  await queue.flush();
  return N / ((performance.now() - start) / 1000);
}

async function peer(dir: string): Promise<number> {
  const dest = pino.destination({ dest: join(dir, "pino.jsonl"), sync: false, minLength: 4096 });
  await new Promise((resolve) => dest.once("ready", resolve));
  const logger = pino({ base: undefined, timestamp: false }, dest);
  const start = performance.now();
  for (const r of records) logger.info(r);
  await new Promise<void>((resolve, reject) =>
    dest.flush((e?: Error) => (e ? reject(e) : resolve()))
  );
  const rate = N / ((performance.now() - start) / 1000);
  dest.end();
  return rate;
}

export async function reportThroughput(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-bench-"));
  try {
    const a: number[] = [];
    const unchained: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      a.push(await ours(dir));
      await rm(join(dir, "ours.jsonl"), { force: true });
      unchained.push(await ours(dir, false));
      await rm(join(dir, "ours.jsonl"), { force: true });
      b.push(await peer(dir));
      await rm(join(dir, "pino.jsonl"), { force: true });
    }
    return {
      aiguard_records_per_s: median(a),
      unchained_records_per_s: median(unchained),
      chain_ratio: median(a) / median(unchained),
      pino_records_per_s: median(b),
      ratio: median(a) / median(b),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main ?? process.argv[1]?.endsWith("report_throughput.ts")) {
  console.log(JSON.stringify(await reportThroughput()));
}
