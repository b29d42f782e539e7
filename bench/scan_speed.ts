// How fast `aiguard scan` reads a large real tree: the installed SDKs' own sources under
// node_modules (default excludes lifted), lines per second, median of 3 runs; the heap after a
// scan of a small tree and of the whole one; and the peak resident memory of a process that scans
// only the small tree or only the whole one (memory should stay flat in the tree size), and of one
// that scans only the whole tree's largest parsed file: what one file's tree alone costs.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import { scan } from "../src/scan/scan.ts";
import { collectGarbage, median } from "./_stats.ts";

const root = resolve(import.meta.dirname!, "..");
const SMALL = ["node_modules/ollama"];
const LARGE = [
  "node_modules/openai",
  "node_modules/@anthropic-ai",
  "node_modules/@google/genai",
  "node_modules/@mistralai",
  "node_modules/groq-sdk",
  "node_modules/ollama",
  "node_modules/cohere-ai",
  "node_modules/@aws-sdk",
  "node_modules/@smithy",
  "node_modules/@langchain",
  "node_modules/@openai",
  "node_modules/ai",
  "node_modules/together-ai",
];
/** The largest file of {@link LARGE} that is parsed (834 KB, under `MAX_FILE_LENGTH`). */
const LARGEST = ["node_modules/ai/dist/index.js"];

async function measure(paths: string[]) {
  const runs: number[] = [];
  let lines = 0;
  let files = 0;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    const result = await scan({ cwd: root, paths, noDefaultExcludes: true });
    runs.push((performance.now() - start) / 1000);
    lines = result.lines;
    files = result.files;
  }
  collectGarbage();
  const heap = process.memoryUsage().heapUsed / 2 ** 20;
  return { files, lines, seconds: median(runs), lines_per_s: lines / median(runs), heap_mib: heap };
}

/**
 * Peak RSS (MiB) of this process: the one-scan child run below. Linux's `VmHWM` is the high-water
 * mark of this process's own memory. `getrusage`'s `maxrss` (`process.resourceUsage()`) is not: a
 * child made by fork starts with its parent's high-water mark and keeps it across exec, and Deno
 * and Bun spawn by fork, so their children reported the parent's peak (742 MiB for both trees).
 */
function peakRssMib(): number | null {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kib !== undefined) return Number(kib) / 1024;
  } catch {
    // not Linux: getrusage is all there is (right when the runtime spawns without fork)
  }
  try {
    return process.resourceUsage().maxRSS / 1024;
  } catch {
    return null; // a runtime without resourceUsage
  }
}

const child = process.argv.indexOf("--only");
if (child !== -1) {
  const tree = process.argv[child + 1];
  const paths = tree === "small" ? SMALL : tree === "largest" ? LARGEST : LARGE;
  await scan({ cwd: root, paths, noDefaultExcludes: true });
  console.log(JSON.stringify({ peak_rss_mib: peakRssMib() }));
  process.exit(0);
}

/** Peak RSS of a fresh process of this runtime that scans one tree. */
function peakOfOneScan(tree: "small" | "large" | "largest"): number | null {
  const self = import.meta.filename!;
  const deno = "Deno" in globalThis;
  const args = deno ? ["run", "-A", self, "--only", tree] : [self, "--only", tree];
  const out = execFileSync(process.execPath, args, { encoding: "utf8", cwd: root });
  return JSON.parse(out.trim().split("\n").at(-1)!).peak_rss_mib;
}

await measure(SMALL); // warm up: the parser's native module, the JIT
const small = await measure(SMALL);
const large = await measure(LARGE);
console.log(JSON.stringify({
  files: large.files,
  lines: large.lines,
  seconds: large.seconds,
  lines_per_s: large.lines_per_s,
  small_lines: small.lines,
  heap_mib_after_small: small.heap_mib,
  heap_mib_after_large: large.heap_mib,
  peak_rss_mib_small: peakOfOneScan("small"),
  peak_rss_mib_large: peakOfOneScan("large"),
  peak_rss_mib_largest_file: peakOfOneScan("largest"),
}));
