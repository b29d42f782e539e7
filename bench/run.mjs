// `npm run bench [runtime...]`: runs every benchmark on Node, Deno and Bun (where it applies), each
// printing medians of several runs, and writes bench/RESULTS.md with the machine and versions.
import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const ALL = ["node", "deno", "bun"];
const selected = process.argv.slice(2).filter((r) => ALL.includes(r));
// `--quick`: fewer rounds and calls, to check the whole run works (its figures are not the ones to
// quote: RESULTS.md says so).
const quick = process.argv.includes("--quick");
const runtimes = selected.length ? selected : ALL;

function command(runtime, script, args = []) {
  const file = join(root, "bench", script);
  if (runtime === "deno") {
    return [bin("deno"), ["run", "-A", "--v8-flags=--expose-gc", file, ...args]];
  }
  if (runtime === "bun") return [bin("bun"), [file, ...args]];
  return [bin("node"), ["--expose-gc", file, ...args]];
}

function run(runtime, script, args) {
  const [cmd, argv] = command(runtime, script, args);
  const out = execFileSync(cmd, argv, { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
  return JSON.parse(out.trim().split("\n").at(-1));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const version = (runtime) => {
  const first = execFileSync(bin(runtime), ["--version"], { encoding: "utf8" }).split("\n")[0]
    .trim();
  return first.startsWith(runtime) ? first.split(" (")[0] : `${runtime} ${first.replace(/^v/, "")}`;
};

/**
 * "Today's rate" in #15's cost goal (chained ≥ 0.8× of it): the file sink's records/s without the
 * chain, as this bench measured it in the run that added the chain (bench/RESULTS.md at 7c06333),
 * on this machine. The sink got faster since; the run's own unchained figure is printed beside it.
 */
const BEFORE_CHAIN = { node: 592556, deno: 381360, bun: 1093841 };

// Node and Bun measure the npm build (what users install), Deno the source: build it first.
execFileSync(bin("node"), [join(root, "scripts", "build_npm.mjs")], {
  cwd: root,
  stdio: "inherit",
});

const sections = [];
const fmt = (n, d = 2) => Number(n).toFixed(d);

for (const runtime of runtimes) {
  console.log(`\n=== ${runtime} (${version(runtime)}) ===`);
  // 1. Per-call overhead on a real SDK call: each variant in its own process. A round runs every
  // variant once, in an order rotated from round to round; a ratio is the median over the rounds
  // of each round's own ratio (the machine drifts less within a round than across the run).
  const variants = runtime === "node"
    ? ["baseline", "attested", "unattested", "peer"]
    : ["baseline", "attested", "unattested"];
  const ROUNDS = quick ? 3 : 11;
  const perCall = {};
  for (const variant of variants) perCall[variant] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < variants.length; k++) {
      const variant = variants[(k + round) % variants.length];
      perCall[variant].push(
        run(runtime, "sdk_overhead.ts", [variant, quick ? "1000" : "10000"]).us_per_call,
      );
    }
  }
  const us = Object.fromEntries(variants.map((v) => [v, median(perCall[v])]));
  const ratios = (v) => perCall[v].map((t, i) => t / perCall.baseline[i]).sort((a, b) => a - b);
  const pairedRatio = (v) => median(ratios(v));
  // The middle half of the rounds' ratios, printed beside each median: how noisy the machine was.
  const quartiles = (v) => {
    const r = ratios(v);
    return `${fmt(r[Math.floor((r.length - 1) / 4)], 3)}–${
      fmt(r[Math.ceil((3 * (r.length - 1)) / 4)], 3)
    }`;
  };
  const sdk = {
    us_per_call: us,
    attested_ratio: pairedRatio("attested"),
    unattested_ratio: pairedRatio("unattested"),
    ...(us.peer ? { peer_ratio: pairedRatio("peer") } : {}),
  };
  console.log("sdk overhead", JSON.stringify(sdk));
  /** Runs one bench program on this runtime and prints what it measured. */
  const measure = (label, file, args) => {
    const result = run(runtime, file, args);
    console.log(label, JSON.stringify(result));
    return result;
  };
  const fetchCost = measure("fetch overhead", "fetch_overhead.ts");
  const transports = measure("transport overhead", "transport_overhead.ts");
  const attestCost = measure("attest cost", "attest_cost.ts");
  const throughput = measure("report throughput", "report_throughput.ts");
  const memory = measure("memory", "memory.ts", [quick ? "100000" : "1000000"]);
  const evidence = measure("evidence", "evidence.ts");
  const scanSpeed = measure("scan speed", "scan_speed.ts");
  const start = measure("preload start", "preload_start.ts");
  const rows = [
    [
      "openai SDK call to a loopback server, report mode, default sinks, attested / baseline (rounds' middle half)",
      `${fmt(sdk.attested_ratio, 3)} (${quartiles("attested")})`,
      "≤ 1.02",
    ],
    [
      "the same, unattested (a record per call into the report file) / baseline (rounds' middle half)",
      `${fmt(sdk.unattested_ratio, 3)} (${quartiles("unattested")})`,
      "≤ 1.05",
    ],
    ...(sdk.peer_ratio
      ? [[
        "the same call under @opentelemetry/instrumentation-openai + OTel SDK, in-memory exporter / baseline",
        `${fmt(sdk.peer_ratio, 3)} (${quartiles("peer")})`,
        "more than ours",
      ]]
      : []),
    [
      "µs per call: baseline / attested / unattested" + (us.peer ? " / peer" : ""),
      variants.map((v) => fmt(us[v], 1)).join(" / "),
      "",
    ],
    [
      "non-AI fetch, ns added by the wrapper (no-op fetch underneath)",
      fmt(fetchCost.micro_ns_added, 0),
      "≤ 300",
    ],
    ["non-AI fetch to loopback, guard on / off", fmt(fetchCost.real_ratio, 3), "≤ 1.01"],
    [
      "non-AI node:http request() / http2 stream / new WebSocket(), ns added (no-op underneath)",
      [
        transports.http_micro_ns_added,
        transports.http2_micro_ns_added,
        transports.websocket_micro_ns_added,
      ].map((n) => fmt(n, 0)).join(" / "),
      "≤ 300 each",
    ],
    [
      "non-AI loopback round trip, guard on / off: node:http / h2c",
      `${fmt(transports.http_real_ratio, 3)} / ${fmt(transports.http2_real_ratio, 3)}`,
      "≤ 1.01",
    ],
    [
      "attest() no-op async call, ns added / ratio",
      `${fmt(attestCost.added_ns, 0)} / ${fmt(attestCost.ratio, 2)}`,
      "",
    ],
    [
      "records/s through enableGuard(), report mode, default sinks (unattested calls over a no-op fetch, until flushed), drops",
      `${fmt(throughput.guard_records_per_s, 0)}, ${throughput.guard_dropped}`,
      "",
    ],
    [
      "the file writer alone (queue built on the default file storage, not a user's path), records/s vs pino (ratio)",
      `${fmt(throughput.aiguard_records_per_s, 0)} vs ${fmt(throughput.pino_records_per_s, 0)} (${
        fmt(throughput.ratio)
      })`,
      "≥ 1.0",
    ],
    [
      `report throughput with the hash chain, records/s chained / before the chain (${
        fmt(BEFORE_CHAIN[runtime], 0)
      }, at 7c06333) (ratio)`,
      `${fmt(throughput.aiguard_records_per_s, 0)} / ${fmt(BEFORE_CHAIN[runtime], 0)} (${
        fmt(throughput.aiguard_records_per_s / BEFORE_CHAIN[runtime])
      })`,
      "≥ 0.8",
    ],
    [
      "the same run's sink without the chain, records/s; chained / unchained (ratio)",
      `${fmt(throughput.unchained_records_per_s, 0)}; ${fmt(throughput.chain_ratio)}`,
      "",
    ],
    [
      "one seal (Ed25519 over a line's hash), µs; aiguard verify of a 40 MiB report, s (MiB/s)",
      `${fmt(evidence.seal_us, 0)}; ${fmt(evidence.verify_seconds, 2)} (${
        fmt(evidence.verify_mib_per_s, 0)
      })`,
      "",
    ],
    [
      `after ${
        memory.calls.toLocaleString("en")
      } unattested calls, report mode, default sinks (no-op fetch): RSS growth (MiB), of it V8's young generation (MiB), heap used growth after GC (MiB), drops`,
      `${fmt(memory.rss_growth_mib, 1)}, ${fmt(memory.new_space_growth_mib, 1)}, ${
        fmt(memory.heap_growth_mib, 2)
      }, ${memory.dropped}`,
      "≤ 64 MiB RSS",
    ],
    [
      `aiguard scan of the installed SDKs' sources (${scanSpeed.files} files, ${scanSpeed.lines} lines): lines/s`,
      fmt(scanSpeed.lines_per_s, 0),
      "≥ 100000",
    ],
    [
      "scan heap after a small tree / the whole tree (MiB, after GC)",
      `${fmt(scanSpeed.heap_mib_after_small, 1)} / ${fmt(scanSpeed.heap_mib_after_large, 1)}`,
      "flat",
    ],
    [
      "scan peak RSS of a process scanning the small tree / the whole tree / the tree's largest parsed file alone (MiB)",
      `${fmt(scanSpeed.peak_rss_mib_small, 0)} / ${fmt(scanSpeed.peak_rss_mib_large, 0)} / ${
        fmt(scanSpeed.peak_rss_mib_largest_file, 0)
      }`,
      "flat",
    ],
    [
      "preload (entry hooks), report mode, default sinks, before the app's first line: ms / MiB RSS added to a plain start",
      `${fmt(start.preload_ms_added, 1)} / ${fmt(start.preload_rss_mib_added, 1)} (plain: ${
        fmt(start.plain_ms, 1)
      } ms, ${fmt(start.plain_rss_mib, 1)} MiB)`,
      "≤ 30 / ≤ 16",
    ],
    [
      "the eager discovery it replaced (every SDK installed here imported): ms / MiB RSS added",
      `${fmt(start.eager_ms_added, 0)} / ${fmt(start.eager_rss_mib_added, 1)}`,
      "",
    ],
  ];
  sections.push({ runtime: version(runtime), rows });
}

const size = run("node", "size_start.ts");
console.log("size/start", JSON.stringify(size));

const lines = [
  "# Benchmark results",
  "",
  "Written by `npm run bench` (bench/run.mjs); do not edit by hand. Every figure is a median of",
  "several runs in one invocation; ratios compare figures measured in the same run. Node and Bun",
  "run the npm build (`npm run build`, done first), Deno the source; every row names its setup.",
  ...(quick
    ? [
      "",
      "**A `--quick` run (3 rounds, 1,000 SDK calls, 100,000 calls for memory): not the figures to quote.**",
    ]
    : []),
  "",
  `- Date: ${new Date().toISOString()}`,
  `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${fmt(totalmem() / 2 ** 30, 1)} GiB`,
  "",
  "## Size and start (Node)",
  "",
  `- core entry (mod.ts) minified + gzipped, @opentelemetry/api external: ${size.core_min_gzip_bytes} bytes (${
    fmt(size.core_min_gzip_bytes / 1024)
  } KiB; target ≤ 8 KiB); with the lazily loaded storage chunks: ${
    fmt(size.all_chunks_min_gzip_bytes / 1024)
  } KiB`,
  `- import time of the core bundle: ${fmt(size.import_ms)} ms (target ≤ 5 ms)`,
  "",
];
for (const section of sections) {
  lines.push(`## ${section.runtime}`, "", "| measure | result | target |", "| --- | --- | --- |");
  for (const [name, result, target] of section.rows) {
    lines.push(`| ${name} | ${result} | ${target} |`);
  }
  lines.push("");
}
await writeFile(join(root, "bench", "RESULTS.md"), lines.join("\n"));
// The repository's formatter owns the layout of every Markdown file, this one included.
execFileSync(bin("deno"), ["fmt", "--quiet", join(root, "bench", "RESULTS.md")], { cwd: root });
console.log("\nwrote bench/RESULTS.md");
