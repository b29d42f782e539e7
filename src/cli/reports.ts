/**
 * Reading report files for the CLI: the file and its rotated backups, oldest first; malformed lines
 * are skipped and counted; unattested calls grouped by call site.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { type Flags, reportPath } from "./command.ts";
import { type AnyRecord, decodeLine, type GuardRecord } from "../report/record.ts";
import { backupName } from "../storage/_rotating_file.ts";
import { isChainLine } from "../storage/_chain.ts";

/** What a report read found. */
export interface ReadResult {
  records: AnyRecord[];
  /** Lines that were not version-1 records. */
  skipped: number;
  /** Files that existed and were read. */
  files: string[];
  /** Files that exist but could not be read (permissions, a directory), with the reason. */
  unreadable: Array<{ file: string; reason: string }>;
}

/** The report file and its backups that exist, oldest first, with their text. */
export async function reportTexts(
  path: string,
  maxBackups = 9,
): Promise<{ texts: Array<{ file: string; text: string }>; unreadable: ReadResult["unreadable"] }> {
  const texts: Array<{ file: string; text: string }> = [];
  const unreadable: ReadResult["unreadable"] = [];
  const candidates = [
    ...Array.from({ length: maxBackups }, (_, i) => backupName(path, maxBackups - i)),
    path,
  ];
  for (const file of candidates) {
    try {
      texts.push({ file, text: await readFile(file, "utf8") });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== "ENOENT" && (error as Error).name !== "NotFound") {
        unreadable.push({ file, reason: code ?? (error as Error).message });
      }
    }
  }
  return { texts, unreadable };
}

/** The report file and its backups that exist, oldest first, parsed. */
export async function readReports(path: string, maxBackups = 9): Promise<ReadResult> {
  const { texts, unreadable } = await reportTexts(path, maxBackups);
  const records: AnyRecord[] = [];
  let skipped = 0;
  for (const { text } of texts) {
    for (const line of text.split("\n")) {
      if (!line.trim() || isChainLine(line)) continue;
      const record = decodeLine(line);
      if (record) records.push(record);
      else skipped++;
    }
  }
  return { records, skipped, files: texts.map((t) => t.file), unreadable };
}

/**
 * Reads the report at `--file` for a command that judges it (check, coverage, verify, export), and
 * fails closed: an unreadable file, or no report at all without `--allow-missing`, is said in one
 * line and the command exits 2. Returns what `read` found, or that exit code.
 */
export async function judgedReport<T extends { unreadable: ReadResult["unreadable"] }>(
  command: string,
  flags: Flags,
  err: (text: string) => void,
  read: (path: string) => Promise<T>,
  filesFound: (found: T) => number,
): Promise<T | number> {
  const path = reportPath(flags);
  const found = await read(path);
  const [first] = found.unreadable;
  if (first) {
    err(`aiguard ${command}: cannot read ${first.file} (${first.reason}): it fails closed.\n`);
    return 2;
  }
  if (filesFound(found) === 0 && flags["allow-missing"] !== true) {
    err(
      `aiguard ${command}: no report at ${path}: did the guard run in report or block mode? ` +
        "(--allow-missing goes on without one)\n",
    );
    return 2;
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
  const groups = new Map<string, SiteGroup>();
  const cutoff = sinceMs === undefined ? -Infinity : now - sinceMs;
  for (const r of records) {
    if (r.event !== "ai_call" || r.attested) continue;
    const t = Date.parse(r.ts);
    if (!(t >= cutoff)) continue;
    const key = r.call_site ?? "";
    let g = groups.get(key);
    if (!g) {
      g = {
        call_site: r.call_site,
        count: 0,
        providers: [],
        models: [],
        actions: [],
        first_seen: r.ts,
        last_seen: r.ts,
      };
      groups.set(key, g);
    }
    g.count++;
    addUnique(g.providers, r.provider);
    if (r.model) addUnique(g.models, r.model);
    addUnique(g.actions, r.action);
    if (r.ts < g.first_seen) g.first_seen = r.ts;
    if (r.ts > g.last_seen) g.last_seen = r.ts;
  }
  return [...groups.values()].sort((a, b) => b.last_seen.localeCompare(a.last_seen));
}

function addUnique(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

/** Splits `path:line:column` (the path may itself contain colons). */
export function splitCallSite(site: string): { path: string; line: number; column: number } | null {
  const m = /^(.*):(\d+):(\d+)$/.exec(site);
  return m ? { path: m[1]!, line: Number(m[2]), column: Number(m[3]) } : null;
}

/** Narrows a record to an AI call. */
export function isAiCall(record: AnyRecord): record is GuardRecord {
  return record.event === "ai_call";
}

/** {@link judgedReport} of the decoded records (check, coverage, export). */
export function judgedRecords(
  command: string,
  flags: Flags,
  err: (text: string) => void,
): Promise<ReadResult | number> {
  return judgedReport(command, flags, err, readReports, (found) => found.files.length);
}
