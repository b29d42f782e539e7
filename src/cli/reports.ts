/**
 * What the report commands share: reading the report through the one typed reader
 * (`src/report/reader.ts`), failing closed on what cannot be judged, and grouping unattested calls
 * by call site.
 *
 * @module
 */
import { cliSettings, type Flags } from "./command.ts";
import type { AnyRecord, GuardRecord } from "../report/record.ts";
import {
  readReport,
  recordsOf,
  type ReportLine,
  type ReportRead,
  unexplainedMalformed,
} from "../report/reader.ts";

/** What a report read found, for the commands that judge records. */
export interface ReadResult {
  records: AnyRecord[];
  /** Malformed lines (wrong types, not JSON, torn) that no crash recovery explains. */
  skipped: number;
  /** Files that existed and were read. */
  files: string[];
  /** Files that exist but could not be read or were refused (a FIFO, a directory), with why. */
  unreadable: Array<{ file: string; reason: string }>;
  /** Every classified line, in order. */
  lines: ReportLine[];
}

function resultOf(read: ReportRead): ReadResult {
  return {
    records: recordsOf(read),
    skipped: unexplainedMalformed(read.lines).length,
    files: read.files,
    unreadable: read.unreadable,
    lines: read.lines,
  };
}

/** The report file and every backup of it that exists, oldest first, classified. */
export async function readReports(path: string): Promise<ReadResult> {
  return resultOf(await readReport(path));
}

/** How {@link judgedRead} fails closed. */
export interface JudgeOptions {
  /** Whether malformed lines no recovery explains exit 2 (check) or are only counted. */
  failOnMalformed?: boolean;
}

/**
 * Reads the report for a command that judges it, and fails closed: a file it cannot read or
 * refuses (not a regular file), no report at all without `--allow-missing`, or (check) malformed
 * lines that no recovery line explains without `--allow-malformed`, are said in one line and the
 * command exits 2. Returns what was read, or that exit code.
 */
export async function judgedRead(
  command: string,
  flags: Flags,
  err: (text: string) => void,
  options: JudgeOptions = {},
): Promise<ReadResult | number> {
  const path = cliSettings(flags, command).reportPath;
  const found = resultOf(await readReport(path));
  const [first] = found.unreadable;
  if (first) {
    err(`aiguard ${command}: cannot read ${first.file} (${first.reason}): it fails closed.\n`);
    return 2;
  }
  if (found.files.length === 0 && flags["allow-missing"] !== true) {
    err(
      `aiguard ${command}: no report at ${path}: did the guard run in report or block mode? ` +
        "(--allow-missing goes on without one)\n",
    );
    return 2;
  }
  if (options.failOnMalformed && flags["allow-malformed"] !== true) {
    const bad = unexplainedMalformed(found.lines);
    const [one] = bad;
    if (one && one.kind === "malformed") {
      err(
        `aiguard ${command}: ${bad.length} malformed line${bad.length === 1 ? "" : "s"} that no ` +
          `recovery line explains (first at ${one.file}:${one.line}: ${one.reason}): it fails ` +
          "closed (--allow-malformed skips them).\n",
      );
      return 2;
    }
  }
  return found;
}

/** Unattested calls at one call site. */
export interface SiteGroup {
  call_site: string | null;
  count: number;
  providers: string[];
  models: string[];
  actions: string[];
  first_seen: string;
  last_seen: string;
}

/** Groups unattested AI calls by call site, newest last-seen first. */
export function groupBySite(records: AnyRecord[], sinceMs?: number, now = Date.now()): SiteGroup[] {
  // Sets beside each group: a report with many distinct models at one site stays linear.
  const groups = new Map<
    string,
    { group: SiteGroup; seen: Set<string>; first: number; last: number }
  >();
  const cutoff = sinceMs === undefined ? -Infinity : now - sinceMs;
  for (const r of records) {
    if (r.event !== "ai_call" || r.attested) continue;
    const t = Date.parse(r.ts);
    if (!(t >= cutoff)) continue;
    const key = r.call_site ?? "";
    let entry = groups.get(key);
    if (!entry) {
      entry = {
        group: {
          call_site: r.call_site,
          count: 0,
          providers: [],
          models: [],
          actions: [],
          first_seen: r.ts,
          last_seen: r.ts,
        },
        seen: new Set(),
        first: t,
        last: t,
      };
      groups.set(key, entry);
    }
    const g = entry.group;
    g.count++;
    const add = (list: string[], kind: string, value: string) => {
      if (entry!.seen.has(kind + value)) return;
      entry!.seen.add(kind + value);
      list.push(value);
    };
    add(g.providers, "p:", r.provider);
    if (r.model) add(g.models, "m:", r.model);
    add(g.actions, "a:", r.action);
    if (t < entry.first) [entry.first, g.first_seen] = [t, r.ts];
    if (t > entry.last) [entry.last, g.last_seen] = [t, r.ts];
  }
  return [...groups.values()].sort((a, b) => b.last - a.last).map((e) => e.group);
}

/** Narrows a record to an AI call. */
export function isAiCall(record: AnyRecord): record is GuardRecord {
  return record.event === "ai_call";
}

/** {@link judgedRead} for the commands that only count malformed lines (coverage, export). */
export function judgedRecords(
  command: string,
  flags: Flags,
  err: (text: string) => void,
): Promise<ReadResult | number> {
  return judgedRead(command, flags, err);
}
