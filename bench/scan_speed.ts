// How fast `aiguard scan` reads a large real tree: the installed SDKs' own sources under
// node_modules (default excludes lifted), lines per second, median of 3 runs; and the heap after a
// scan of a small tree and of the whole one (memory should stay flat in the tree size).
import { resolve } from "node:path";
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
}));
