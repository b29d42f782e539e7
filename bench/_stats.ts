import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type GuardRecord, makeRecord } from "../src/report/record.ts";

type Entry = typeof import("../mod.ts");

/**
 * The package as users run it: the npm build (dist/, `npm run build`) on Node and Bun, the source
 * on Deno (which runs it from JSR or the repository).
 */
export async function userEntry(): Promise<Entry> {
  if ("Deno" in globalThis) return await import("../mod.ts");
  // Another build's mod.js for an A/B comparison of two builds (a copy of dist/ elsewhere).
  const built = process.env.AIGUARD_BENCH_ENTRY ??
    join(resolve(import.meta.dirname!, ".."), "dist", "mod.js");
  if (!existsSync(built)) throw new Error("Run `npm run build` first (dist/mod.js).");
  return await import(built) as Entry;
}

/**
 * A fresh home directory for a user without a daemon running (`HOME` set to it): with the default
 * sinks and no OTel provider, the report goes to `<home>/.aiguard/guard_log.jsonl`. Set before the
 * guard is enabled (it resolves its paths then).
 */
export async function freshHome(): Promise<{ home: string; report: string }> {
  const home = await mkdtemp(join(tmpdir(), "aiguard-bench-home-"));
  process.env.HOME = home;
  return { home, report: join(home, ".aiguard", "guard_log.jsonl") };
}

/** Median of a sample (machines are noisy: every figure printed is a median of several runs). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `runtime version`, e.g. `node 24.9.0`. */
export function runtimeLabel(): string {
  const g = globalThis as {
    Deno?: { version: { deno: string } };
    Bun?: { version: string };
    process?: { versions?: { node?: string } };
  };
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun) return `bun ${g.Bun.version}`;
  return `node ${g.process?.versions?.node}`;
}

/** A full garbage collection where the runtime offers one (`--expose-gc` on V8, `Bun.gc`). */
export function collectGarbage(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.gc) g.gc();
  else g.Bun?.gc(true);
}

/** An unattested openai record at a call site, as the guard writes them (benches of the writer). */
export function sampleRecord(callSite = "src/app.ts:42:7"): GuardRecord {
  return makeRecord(
    {
      provider: "openai",
      operation: "chat",
      model: "gpt-4o-mini",
      target: "openai.chat.completions.create",
      detector: "sdk",
      server: "api.openai.com",
      port: 443,
    },
    {
      action: "reported",
      mode: "report",
      attestation: null,
      callSite,
      stack: [callSite, "src/main.ts:10:3"],
    },
    { runtime: runtimeLabel(), service: "bench", pid: 1 },
  );
}

/**
 * ns per call of `fn` (a synchronous call into a wrapper over a no-op), `runs` times with the
 * guard off then on, after a warm-up; the medians and the ns the guard adds.
 */
export async function microRounds(
  fn: () => void,
  calls: number,
  on: () => void,
  off: () => unknown,
  runs: number,
): Promise<{ off: number; on: number; added: number }> {
  const time = () => {
    const start = performance.now();
    for (let i = 0; i < calls; i++) fn();
    return ((performance.now() - start) * 1e6) / calls;
  };
  time(); // warm up
  const offNs: number[] = [];
  const onNs: number[] = [];
  for (let r = 0; r < runs; r++) {
    offNs.push(time());
    on();
    onNs.push(time());
    await off();
  }
  return { off: median(offNs), on: median(onNs), added: median(onNs) - median(offNs) };
}

/**
 * Times `run` with the guard off and on, in rounds that alternate which state goes first (so
 * neither gains from following the other), after warm-up rounds of both (the JIT settles on the
 * wrapped and the bare path). Returns the medians and the median of the rounds' on/off ratios,
 * which follows the machine's drift less than a ratio of medians.
 */
export async function pairedRounds(
  run: () => Promise<number>,
  on: () => void,
  off: () => Promise<void>,
  rounds: number,
  warmups = 2,
): Promise<{ off: number; on: number; ratio: number }> {
  for (let r = 0; r < warmups; r++) {
    await run();
    on();
    await run();
    await off();
  }
  const offs: number[] = [];
  const ons: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2) {
      on();
      ons.push(await run());
      await off();
      offs.push(await run());
    } else {
      offs.push(await run());
      on();
      ons.push(await run());
      await off();
    }
  }
  return { off: median(offs), on: median(ons), ratio: median(ons.map((t, i) => t / offs[i]!)) };
}
