#!/usr/bin/env node
/**
 * Scores `aiguard scan` against hand-reviewed lists of real applications' AI call sites.
 *
 *   node scripts/scan_eval.mjs CHECKOUTS [NAME...] [--verbose] [--json]
 *
 * CHECKOUTS holds one folder per list in scripts/scan_eval/ (`nextchat/`, `continue/`, …), each a
 * checkout of the list's `repo` at its `commit`. A list names `sites` (file:line where the call
 * expression starts), `ambiguous` (neither counted as found nor as a false alarm) and `negatives`
 * (look-alikes: a report there is a false alarm, as is any report in `scope` not on the list).
 * `scope` (globs) limits both the review and the scoring to part of a repository.
 *
 * recall = listed sites reported / listed sites; precision = reported listed sites / reports in
 * scope that are not ambiguous. Speed is the whole scan of the checkout, as `aiguard scan` does it.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { globToRegExp, scan } from "../src/scan/scan.ts";

const LISTS = new URL("./scan_eval/", import.meta.url).pathname;
const args = process.argv.slice(2);
const verbose = args.includes("--verbose");
const asJson = args.includes("--json");
const positional = args.filter((a) => !a.startsWith("--"));
const root = positional[0];
if (!root) {
  console.error("usage: node scripts/scan_eval.mjs CHECKOUTS [NAME...] [--verbose] [--json]");
  process.exit(2);
}
const names = positional.length > 1
  ? positional.slice(1)
  : (await readdir(LISTS)).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();

const rows = [];
for (const name of names) {
  const list = JSON.parse(await readFile(join(LISTS, `${name}.json`), "utf8"));
  const cwd = join(root, name);
  const scope = (list.scope ?? ["**"]).map(globToRegExp);
  const inScope = (file) => scope.some((re) => re.test(file));
  const started = performance.now();
  const result = await scan({ cwd });
  const seconds = (performance.now() - started) / 1000;
  const reported = new Map();
  for (const s of result.sites) {
    if (inScope(s.file)) reported.set(`${s.file}:${s.line}`, s);
  }
  const sites = new Set(list.sites);
  const ambiguous = new Set(list.ambiguous ?? []);
  const found = list.sites.filter((k) => reported.has(k));
  const missed = list.sites.filter((k) => !reported.has(k));
  const falseAlarms = [...reported.keys()].filter((k) => !sites.has(k) && !ambiguous.has(k));
  const counted = found.length + falseAlarms.length;
  const row = {
    name,
    sites: list.sites.length,
    found: found.length,
    falseAlarms: falseAlarms.length,
    high: found.filter((k) => reported.get(k).confidence === "high").length,
    recall: list.sites.length ? found.length / list.sites.length : 1,
    precision: counted ? found.length / counted : 1,
    files: result.files,
    parsed: result.parsed,
    lines: result.lines,
    seconds,
    errors: result.errors.length,
  };
  rows.push(row);
  if (verbose) {
    for (const k of missed) console.log(`  missed      ${name} ${k}`);
    for (const k of falseAlarms) {
      const s = reported.get(k);
      console.log(`  false alarm ${name} ${k} ${s.target} ${s.confidence}`);
    }
  }
}

if (asJson) console.log(JSON.stringify(rows, null, 2));
else {
  const pct = (x) => x.toFixed(2);
  console.log(
    "repo         sites found (high) false  recall precision   files  parsed    lines/s",
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(12)} ${String(r.sites).padStart(5)} ${String(r.found).padStart(5)} ` +
        `${`(${r.high})`.padStart(6)} ${String(r.falseAlarms).padStart(5)} ` +
        `${pct(r.recall).padStart(7)} ${pct(r.precision).padStart(9)} ` +
        `${String(r.files).padStart(7)} ${String(r.parsed).padStart(7)} ${
          String(Math.round(r.lines / r.seconds)).padStart(10)
        }`,
    );
  }
  const total = rows.reduce((a, r) => ({
    sites: a.sites + r.sites,
    found: a.found + r.found,
    falseAlarms: a.falseAlarms + r.falseAlarms,
  }), { sites: 0, found: 0, falseAlarms: 0 });
  console.log(
    `all          ${String(total.sites).padStart(5)} ${String(total.found).padStart(5)} ` +
      `${"".padStart(6)} ${String(total.falseAlarms).padStart(5)} ` +
      `${pct(total.found / total.sites).padStart(7)} ` +
      `${pct(total.found / Math.max(1, total.found + total.falseAlarms)).padStart(9)}`,
  );
}
