// What the preload costs before the app's first line, per runtime: a plain start, the preload
// (entry hooks: nothing imported until the app imports it), and the eager discovery it replaced
// (every supported SDK installed here imported at start). Each variant runs in fresh processes,
// 11 rounds in rotated order; prints medians of the time to the app's first line and of its RSS.
// AIGUARD_BENCH_PRELOAD=<another build's auto.js> adds it as a fourth variant (an A/B comparison of
// two builds, interleaved); AIGUARD_BENCH_MODE sets AIGUARD_MODE (default `report`),
// AIGUARD_BENCH_ROUNDS the rounds.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { median } from "./_stats.ts";

const root = resolve(import.meta.dirname!, "..");
const runtime = (globalThis as { Deno?: unknown }).Deno
  ? "deno"
  : (globalThis as { Bun?: unknown }).Bun
  ? "bun"
  : "node";
const exec = (globalThis as { Deno?: { execPath(): string } }).Deno?.execPath() ??
  process.execPath;
const app = join(root, "bench", "_start_app.mjs");

// Node and Bun users get the npm build (`scripts/build_npm.mjs`: an esbuild bundle with code
// splitting), built here from the current source; Deno users the TypeScript from JSR.
const outdir = join(root, ".tmp", "bench-preload");
mkdirSync(outdir, { recursive: true });
let preload = join(root, "auto.ts");
if (runtime !== "deno") {
  const npm = join(outdir, "npm");
  const { buildNpm } = await import("../scripts/build_npm.mjs");
  await buildNpm(npm);
  preload = join(npm, "auto.js");
}
// The eager discovery, for comparison only: a bundle on Node and Bun (no user runs it).
const bundle = async (entry: string, name: string) => {
  if (runtime === "deno") return join(root, entry);
  const outfile = join(outdir, name);
  await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    format: "esm",
    platform: "node",
    packages: "external",
    outfile,
    logLevel: "error",
  });
  return outfile;
};
const eager = await bundle("bench/_eager_preload.ts", "eager.mjs");

function args(preloadFile: string | null): string[] {
  if (runtime === "deno") {
    return ["run", "-A", ...(preloadFile ? ["--preload", preloadFile] : []), app];
  }
  if (runtime === "bun") return [...(preloadFile ? ["--preload", preloadFile] : []), app];
  return [...(preloadFile ? ["--import", preloadFile] : []), app];
}

const other = process.env.AIGUARD_BENCH_PRELOAD;
const variants: Record<string, string | null> = {
  plain: null,
  preload,
  eager,
  ...(other ? { other } : {}),
};
const names = Object.keys(variants);
const samples: Record<string, { ms: number[]; rss: number[] }> = {};
for (const name of names) samples[name] = { ms: [], rss: [] };
// What users run: report mode with the default sinks (`auto`), the report under a fresh HOME.
// AIGUARD_BENCH_SINKS=memory measures the guard without the sink chain, for comparison.
const home = join(outdir, "home");
mkdirSync(home, { recursive: true, mode: 0o700 });
const env: Record<string, string | undefined> = {
  ...process.env,
  HOME: home,
  AIGUARD_MODE: process.env.AIGUARD_BENCH_MODE ?? "report",
  AIGUARD_SINKS: process.env.AIGUARD_BENCH_SINKS,
};
if (env.AIGUARD_SINKS === undefined) delete env.AIGUARD_SINKS;
const rounds = Number(process.env.AIGUARD_BENCH_ROUNDS ?? 11);
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + round) % names.length]!;
    const out = execFileSync(exec, args(variants[name]!), { cwd: root, env, encoding: "utf8" });
    const line = JSON.parse(out.trim().split("\n").at(-1)!) as {
      rss: number;
      first_line_ms: number;
    };
    samples[name]!.ms.push(line.first_line_ms);
    samples[name]!.rss.push(line.rss / 2 ** 20);
  }
}
const m = (name: string) => ({ ms: median(samples[name]!.ms), rss: median(samples[name]!.rss) });
const [plain, withPreload, withEager] = [m("plain"), m("preload"), m("eager")];
const withOther = other ? m("other") : null;
console.log(JSON.stringify({
  sinks: process.env.AIGUARD_BENCH_SINKS ?? "auto (default)",
  mode: env.AIGUARD_MODE,
  rounds,
  plain_ms: plain.ms,
  plain_rss_mib: plain.rss,
  preload_ms_added: withPreload.ms - plain.ms,
  preload_rss_mib_added: withPreload.rss - plain.rss,
  eager_ms_added: withEager.ms - plain.ms,
  eager_rss_mib_added: withEager.rss - plain.rss,
  ...(withOther
    ? {
      other,
      other_ms_added: withOther.ms - plain.ms,
      other_rss_mib_added: withOther.rss - plain.rss,
    }
    : {}),
}));
