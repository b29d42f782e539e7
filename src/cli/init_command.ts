/**
 * `aiguard init`: onboarding. Detects the project's runtimes (deno.json, bunfig.toml,
 * package.json), writes `aiguard.jsonc`, wires the preload (Bun's `preload`, `--preload` in Deno
 * tasks, `--import` in package.json scripts run by node) and a CI workflow (`aiguard scan --strict`
 * and the tests with `AIGUARD_MODE=block`), then prints the first scan's summary. Idempotent;
 * `--dry-run` only says what it would change.
 *
 * @module
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import process from "node:process";
import type { Command } from "./command.ts";
import { scan } from "../scan/scan.ts";
import { scanSummary, terminalProgress } from "./scan_command.ts";

const NPM_PRELOAD = "@aiguard/attest/auto";
const JSR_PRELOAD = "jsr:@aiguard/attest/auto";

/** One file init would write: its path (relative) and new text. */
export interface Change {
  file: string;
  text: string;
  /** What changes, in a few words. */
  why: string;
}

const CONFIG = `// aiguard: the runtime guard's settings (https://jsr.io/@aiguard/attest).
// Variables (AIGUARD_MODE=block, ...) win over this file; options in code win over both.
{
  // "warn" logs once per call site, "report" writes records, "block" throws AttestationError.
  "mode": "report"
}
`;

function workflow(runtimes: string[]): string {
  const setup: string[] = [];
  const tests: string[] = [];
  if (runtimes.includes("node")) {
    setup.push(
      "      - uses: actions/setup-node@v4\n        with: { node-version: 22 }",
      "      - run: npm ci",
    );
    tests.push("      - run: npm test\n        env: { AIGUARD_MODE: block }");
  }
  if (runtimes.includes("deno")) {
    setup.push("      - uses: denoland/setup-deno@v2");
    tests.push(
      "      - run: deno test -A --preload jsr:@aiguard/attest/auto\n        env: { AIGUARD_MODE: block }",
    );
  }
  if (runtimes.includes("bun")) {
    setup.push("      - uses: oven-sh/setup-bun@v2", "      - run: bun install");
    tests.push("      - run: bun test\n        env: { AIGUARD_MODE: block }");
  }
  const scanStep = runtimes.includes("node") || runtimes.includes("bun")
    ? "      - run: npx aiguard scan --strict"
    : "      - run: deno run -A jsr:@aiguard/attest/cli scan --strict";
  return `# Written by aiguard init: every AI call in the code must be reviewed (attest()).
name: aiguard
on: [push, pull_request]
jobs:
  aiguard:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
${setup.join("\n")}
      # Static: unattested AI call sites anywhere in the code fail the job.
${scanStep}
      # Runtime: any unattested AI call the tests make throws AttestationError.
${tests.join("\n")}
`;
}

async function read(path: string): Promise<string | null> {
  return await readFile(path, "utf8").catch(() => null);
}

/** The indentation a JSON file uses (two spaces when it cannot tell). */
function indentOf(text: string): string | number {
  const m = /\n([ \t]+)"/.exec(text);
  return m ? m[1]! : 2;
}

/** `bunfig.toml` with the preload listed at its top level. */
export function withBunPreload(text: string): string | null {
  const top = text.split(/^\s*\[/m)[0]!;
  const line = /^preload\s*=\s*(\[[^\]]*\]|"[^"]*")/m.exec(top);
  if (line) {
    if (line[1]!.includes(NPM_PRELOAD)) return null;
    const list = line[1]!.startsWith("[")
      ? line[1]!.replace(/\]$/, `${/\[\s*\]/.test(line[1]!) ? "" : ", "}"${NPM_PRELOAD}"]`)
      : `[${line[1]}, "${NPM_PRELOAD}"]`;
    return text.replace(line[0]!, `preload = ${list}`);
  }
  return `# The aiguard guard is live before any module builds an AI client.\npreload = ["${NPM_PRELOAD}"]\n\n${text}`;
}

/** A Deno task command with `--preload` after `deno run` / `deno test`, or `null` if done. */
export function withDenoPreload(task: string): string | null {
  if (task.includes(JSR_PRELOAD) || task.includes(NPM_PRELOAD)) return null;
  const next = task.replace(/\bdeno (run|test)\b/g, `deno $1 --preload ${JSR_PRELOAD}`);
  return next === task ? null : next;
}

/** A package.json script with `--import` after `node`, or `null` if done or not run by node. */
export function withNodeImport(script: string): string | null {
  if (script.includes(NPM_PRELOAD)) return null;
  const next = script.replace(
    /(^|&&\s*|;\s*)node\s(?!_modules)/g,
    `$1node --import ${NPM_PRELOAD} `,
  );
  return next === script ? null : next;
}

/** What init would change in the project at `root`, and its runtimes. */
export async function plan(
  root: string,
): Promise<{ runtimes: string[]; changes: Change[]; notes: string[] }> {
  const changes: Change[] = [];
  const notes: string[] = [];
  const runtimes: string[] = [];
  const pkgText = await read(join(root, "package.json"));
  const denoFile = (await read(join(root, "deno.json"))) !== null
    ? "deno.json"
    : (await read(join(root, "deno.jsonc"))) !== null
    ? "deno.jsonc"
    : null;
  const bunfig = await read(join(root, "bunfig.toml"));
  const bunLock = (await read(join(root, "bun.lock"))) !== null ||
    (await read(join(root, "bun.lockb"))) !== null;
  if (pkgText !== null) runtimes.push("node");
  if (denoFile) runtimes.push("deno");
  if (bunfig !== null || bunLock) runtimes.push("bun");

  if ((await read(join(root, "aiguard.jsonc"))) === null) {
    changes.push({
      file: "aiguard.jsonc",
      text: CONFIG,
      why: "the guard's settings (mode: report)",
    });
  }
  if (pkgText !== null) {
    const pkg = JSON.parse(pkgText) as { scripts?: Record<string, string> };
    let touched = false;
    for (const [name, script] of Object.entries(pkg.scripts ?? {})) {
      const next = withNodeImport(script);
      if (next !== null) {
        pkg.scripts![name] = next;
        touched = true;
      }
    }
    if (touched) {
      changes.push({
        file: "package.json",
        text: JSON.stringify(pkg, null, indentOf(pkgText)) + "\n",
        why: `--import ${NPM_PRELOAD} in the scripts run by node`,
      });
    }
  }
  if (denoFile === "deno.json") {
    const text = (await read(join(root, denoFile)))!;
    const deno = JSON.parse(text) as { tasks?: Record<string, string | { command?: string }> };
    let touched = false;
    for (const [name, task] of Object.entries(deno.tasks ?? {})) {
      const command = typeof task === "string" ? task : task.command;
      const next = command === undefined ? null : withDenoPreload(command);
      if (next === null) continue;
      if (typeof task === "string") deno.tasks![name] = next;
      else task.command = next;
      touched = true;
    }
    if (touched) {
      changes.push({
        file: "deno.json",
        text: JSON.stringify(deno, null, indentOf(text)) + "\n",
        why: `--preload ${JSR_PRELOAD} in the tasks that run deno`,
      });
    }
  } else if (denoFile === "deno.jsonc") {
    notes.push(
      `deno.jsonc keeps its comments: add --preload ${JSR_PRELOAD} to your deno run/test tasks by hand`,
    );
  }
  if (runtimes.includes("bun")) {
    const next = withBunPreload(bunfig ?? "");
    if (next !== null) {
      changes.push({ file: "bunfig.toml", text: next, why: `preload = ["${NPM_PRELOAD}"]` });
    }
  }
  const ci = ".github/workflows/aiguard.yml";
  if (runtimes.length > 0 && (await read(join(root, ci))) === null) {
    changes.push({
      file: ci,
      text: workflow(runtimes),
      why: "CI: aiguard scan --strict, and the tests with AIGUARD_MODE=block",
    });
  }
  return { runtimes, changes, notes };
}

/** `aiguard init`. */
export const initCommand: Command = {
  name: "init",
  summary: "write aiguard.jsonc, wire the preload and a CI step, print the first scan",
  usage: `Usage: aiguard init [--dry-run]

Detects the project's runtimes (deno.json, bunfig.toml, package.json) and writes aiguard.jsonc,
the preload (bunfig.toml preload, --preload in Deno tasks, --import in package.json scripts run by
node) and a GitHub Actions workflow (aiguard scan --strict; the tests with AIGUARD_MODE=block).
Changes nothing that is already in place. --dry-run prints what it would change.`,
  flags: { "dry-run": "boolean" },
  async run({ flags, io }) {
    const root = process.cwd();
    const { runtimes, changes, notes } = await plan(root);
    io.out(`aiguard init: runtimes found: ${runtimes.length ? runtimes.join(", ") : "none"}\n`);
    if (changes.length === 0) io.out("aiguard init: nothing to change, all in place\n");
    for (const change of changes) {
      io.out(`${flags["dry-run"] ? "would write" : "wrote"} ${change.file}: ${change.why}\n`);
      if (!flags["dry-run"]) {
        await mkdir(dirname(join(root, change.file)), { recursive: true });
        await writeFile(join(root, change.file), change.text);
      }
    }
    for (const note of notes) io.out(`note: ${note}\n`);
    const progress = terminalProgress("aiguard scan:");
    const result = await scan({ cwd: root, ...(progress ? { progress } : {}) });
    io.out(`first scan: ${scanSummary(result)}\n`);
    return 0;
  },
};
