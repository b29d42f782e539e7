// @runtimes node
/**
 * Writers of all three runtimes at once on one report (this file starts them all, so it runs once):
 * one chain under concurrency and rotation.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backupName } from "../src/storage/_rotating_file.ts";
import { verifyChain } from "./support/verify_report.ts";

let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), "aiguard-mixed-"))));
after(() => rm(dir, { recursive: true, force: true }));

const bin = (name: string) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
const script = new URL("./support/report_writer.ts", import.meta.url).pathname;

/** Runs the child writer on `runtime` to its end; resolves with what it printed. */
function run(runtime: "node" | "deno" | "bun", args: string[]): Promise<string> {
  const argv = runtime === "deno" ? ["run", "-A", script, ...args] : [script, ...args];
  const child = spawn(bin(runtime), argv, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) =>
    child.once(
      "exit",
      (code) => code === 0 ? resolve(out) : reject(new Error(`${runtime}: ${code}`)),
    )
  );
}

test("4 writers (node, deno, bun, node) × 2,500 uniform records, rotating at 256 KiB: one chain", async () => {
  const runtimes = ["node", "deno", "bun", "node"] as const;
  const perWriter = 2_500;
  for (let round = 1; round <= 2; round++) {
    const sub = await mkdtemp(join(dir, `round${round}-`));
    const path = join(sub, "guard_log.jsonl");
    const backups = 50;
    await Promise.all(
      runtimes.map((runtime, w) =>
        run(runtime, [path, `w${w}`, String(perWriter), "10", "200", "262144", String(backups)])
      ),
    );
    const names = (await readdir(sub)).filter((f) => f.endsWith(".jsonl"));
    const kept = Array.from(
      { length: names.length - 1 },
      (_, i) => backupName(path, names.length - 1 - i),
    );
    const files = await Promise.all(
      [...kept, path].map(async (file) => ({ file, text: await readFile(file, "utf8") })),
    );
    const chain = await verifyChain(files);
    assert.equal(chain.broken, null, `round ${round}: ${JSON.stringify(chain.broken)}`);
    const lines = files.flatMap((f) => f.text.trimEnd().split("\n").map((l) => JSON.parse(l)));
    const seqs = lines.map((l) => l.seq as number);
    assert.deepEqual(
      seqs,
      Array.from({ length: seqs.length }, (_, i) => i + 1),
      "unique, gap-free seq",
    );
    const records = lines.filter((l) => l.event === "ai_call");
    const heads = lines.filter((l) => l.event === "chain_start" || l.event === "rotated");
    assert.equal(heads.length, files.length, "one head line per file");
    assert.equal(new Set(heads.map((h) => h.report)).size, 1, "one report id");
    assert.equal(records.length, runtimes.length * perWriter, "every record written, once");
    assert.equal(new Set(records.map((r) => `${r.writer}:${r.n}`)).size, records.length);
    assert.equal(lines.length, records.length + heads.length, "line count = records + head lines");
    for (const { text } of files) assert.ok(new TextEncoder().encode(text).length <= 262144);
    console.log(
      `[faults] mixed writers round ${round}: ${records.length} of ${
        runtimes.length * perWriter
      } records, ${files.length} files, seq 1–${seqs.at(-1)}`,
    );
  }
});
