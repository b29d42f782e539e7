// Report throughput: records/s through aiguard's file path (bounded queue → the runtime's default
// file storage, bun-file on Bun and node-fs elsewhere, with locked rotation, JSONL) next to pino
// writing the same objects to a file, in the same run.
//
// Two sinks, each long-lived as in a running service (one untimed burst first), timed in turns
// over bursts of 100,000 records: with the hash chain (the default) and without. Every timed run
// starts after a full garbage collection. Prints medians of 5 runs, the chain's cost (chained /
// unchained) and the ratio to pino (≥ 1.0: at least as fast).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { RecordQueue } from "../src/report/queue.ts";
import { createNodeFsStorage } from "../src/storage/node_fs.ts";
import { createBunFileStorage } from "../src/storage/bun_file.ts";
import { collectGarbage, median, runtimeLabel, sampleRecord } from "./_stats.ts";

const N = 100_000;
const RUNS = 5;
const proc = { runtime: runtimeLabel(), service: "bench", pid: 1 };
const onBun = "Bun" in globalThis;
const createStorage = onBun ? createBunFileStorage : createNodeFsStorage;
const records = Array.from({ length: N }, (_, i) => sampleRecord(`src/app.ts:${i % 500}:7`));

/** Pushes a burst and waits until it is written: records/s. */
async function burst(queue: RecordQueue): Promise<number> {
  collectGarbage(); // no run pays for the garbage of the one before (pino's included)
  const start = performance.now();
  for (const r of records) queue.push(r);
  await queue.flush();
  return N / ((performance.now() - start) / 1000);
}

function sink(dir: string, name: string, chain: boolean): RecordQueue {
  return new RecordQueue(
    createStorage({ path: join(dir, `${name}.jsonl`), backups: 1, chain }),
    { capacity: N, proc, onDrop: () => {}, onFailure: (e) => console.error(e) },
  );
}

async function peer(dir: string): Promise<number> {
  const dest = pino.destination({ dest: join(dir, "pino.jsonl"), sync: false, minLength: 4096 });
  await new Promise((resolve) => dest.once("ready", resolve));
  const logger = pino({ base: null, timestamp: false }, dest);
  collectGarbage();
  const start = performance.now();
  for (const r of records) logger.info(r);
  await new Promise<void>((resolve, reject) =>
    dest.flush((e?: Error) => (e ? reject(e) : resolve()))
  );
  const rate = N / ((performance.now() - start) / 1000);
  // Closed before the next run starts (its last writes would land in that run's time).
  await new Promise((resolve) => {
    dest.once("close", resolve);
    dest.end();
  });
  return rate;
}

export async function reportThroughput(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-bench-"));
  const chained = sink(dir, "chained", true);
  const unchained = sink(dir, "unchained", false);
  try {
    await burst(chained);
    await burst(unchained);
    const a: number[] = [];
    const b: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      a.push(await burst(chained));
      b.push(await burst(unchained));
      p.push(await peer(dir));
      await rm(join(dir, "pino.jsonl"), { force: true });
    }
    return {
      aiguard_records_per_s: median(a),
      unchained_records_per_s: median(b),
      chain_ratio: median(a) / median(b),
      pino_records_per_s: median(p),
      ratio: median(a) / median(p),
    };
  } finally {
    await chained.close();
    await unchained.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main ?? process.argv[1]?.endsWith("report_throughput.ts")) {
  console.log(JSON.stringify(await reportThroughput()));
}
