// Report throughput, two rows:
//  - through enableGuard()'s own output, as users get it: report mode, the default sinks (no OTel
//    provider, no daemon under a fresh HOME: the queue into the report file), unattested fetch
//    calls over a no-op fetch, the event loop given a turn every 1,000 calls as an app's I/O would;
//    records/s from the first call until flush() resolved (the stack capture, record, queue, chain
//    and file all included). The npm build on Node and Bun, the source on Deno.
//  - the file writer alone: the bounded queue built directly on the runtime's default file storage
//    (bun-file on Bun, node-fs elsewhere; locked rotation, JSONL), with the hash chain (the
//    default) and without, next to pino writing the same objects to a file in the same run. No
//    user builds the queue so; it is what the default sink's writer can take.
// Every sink is long-lived as in a running service (one untimed burst first) and timed in turns;
// every timed run starts after a full garbage collection. Prints medians of 5 runs.
import { readFile, rm } from "node:fs/promises";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { RecordQueue } from "../src/report/queue.ts";
import { createNodeFsStorage } from "../src/storage/node_fs.ts";
import { createBunFileStorage } from "../src/storage/bun_file.ts";
import {
  collectGarbage,
  freshHome,
  median,
  runtimeLabel,
  sampleRecord,
  userEntry,
} from "./_stats.ts";

const N = 100_000;
const RUNS = 5;
const proc = { runtime: runtimeLabel(), service: "bench", pid: 1 };
const onBun = "Bun" in globalThis;
const createStorage = onBun ? createBunFileStorage : createNodeFsStorage;
const GUARDED_N = 50_000;
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

/** Unattested calls through the guard with the default sinks: records/s until flushed. */
async function guardedBurst(flush: () => Promise<void>): Promise<number> {
  const body = JSON.stringify({ model: "gpt-4o-mini" });
  collectGarbage();
  const start = performance.now();
  for (let i = 0; i < GUARDED_N; i++) {
    await fetch("https://api.openai.com/v1/chat/completions", { method: "POST", body });
    if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 0));
  }
  await flush();
  return GUARDED_N / ((performance.now() - start) / 1000);
}

/** Records/s through enableGuard()'s output; checks every record reached the report. */
async function throughGuard(): Promise<{ rate: number; dropped: number }> {
  const { enableGuard } = await userEntry();
  const { home, report } = await freshHome();
  const realFetch = globalThis.fetch;
  const answer = Promise.resolve(new Response("{}"));
  globalThis.fetch = (() => answer) as typeof fetch;
  // 10 MiB would rotate every ~20,000 records: a row of its own (the rotation tests); here the
  // report keeps every record so they can be counted.
  const guard = enableGuard({ mode: "report", discover: false, maxBytes: 1024 ** 3 });
  try {
    await guardedBurst(guard.flush);
    const rates: number[] = [];
    for (let i = 0; i < RUNS; i++) rates.push(await guardedBurst(guard.flush));
    const text = await readFile(report, "utf8");
    const written = text.split("\n").filter((line) => line.includes('"event":"ai_call"')).length;
    const dropped = guard.stats().dropped;
    if (written + dropped !== GUARDED_N * (RUNS + 1)) {
      throw new Error(
        `${written} records written and ${dropped} dropped of ${GUARDED_N * (RUNS + 1)}`,
      );
    }
    return { rate: median(rates), dropped };
  } finally {
    await guard.disable();
    globalThis.fetch = realFetch;
    await rm(home, { recursive: true, force: true });
  }
}

export async function reportThroughput(): Promise<Record<string, number>> {
  const guarded = await throughGuard();
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
      guard_records_per_s: guarded.rate,
      guard_dropped: guarded.dropped,
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
