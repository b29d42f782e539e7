/**
 * The one reader of report files: every line of a report (the rotated backups oldest first, then
 * the live file) is classified once, here, as a record, a seal, a head line (`chain_start`,
 * `rotated`, `report_id`), a `recovered` line, a blank line or a malformed one. A record whose
 * fields do not have the contract's types is malformed, as is a chained line whose `seq` is not a
 * positive safe integer: nothing downstream ever meets a wrongly typed value.
 *
 * Files are opened without blocking (a FIFO or a device is refused, never read) and read whole, so
 * no report content can stall the caller.
 *
 * @module
 */
import { constants } from "node:fs";
import { open, readdir } from "node:fs/promises";
import type { AnyRecord, DroppedRecord, GuardRecord } from "./record.ts";
import { backupName } from "../storage/_rotating_file.ts";
import { sha256Hex } from "../storage/_chain.ts";

/** A chained line's place in the chain. */
export interface ChainLink {
  /** Position in the chain: a positive safe integer. */
  seq: number;
  /** Hex SHA-256 of the previous line, `null` only on seq 1. */
  prev: string | null;
}

/** Where a line is and its raw shape, whatever its kind. */
export interface LineAt {
  /** The file it is in. */
  file: string;
  /** 1-based line number in that file. */
  line: number;
  /** Its length in bytes, without the newline. */
  bytes: number;
  /** Whether a newline ends it (only a file's last line can lack one). */
  terminated: boolean;
  /** Its text, or `null` when it is not valid UTF-8 or too long to read. */
  text: string | null;
}

/** A line classified by {@link classifyLine}. */
export type ReportLine =
  & LineAt
  & (
    | { kind: "record"; record: AnyRecord; chain: ChainLink | null }
    | {
      kind: "seal";
      chain: ChainLink;
      /** The report id the seal binds (`null` in seals written before report ids). */
      report: string | null;
      upto: number;
      hash: string;
      sig: string;
      keyId: string;
    }
    | { kind: "chain_start"; chain: ChainLink; report: string }
    | { kind: "rotated"; chain: ChainLink; report: string; droppedUpto: number | null }
    | { kind: "report_id"; chain: ChainLink; report: string }
    | {
      kind: "recovered";
      chain: ChainLink;
      tornBytes: number;
      /** The last intact seq before the fragment; `null` when the crash tore a report's first line. */
      afterSeq: number | null;
    }
    | { kind: "blank"; chain: null }
    | {
      kind: "malformed";
      /**
       * The line's chain link when only its content is wrong (a record with wrongly typed fields,
       * an unknown event): `verify` still checks its place in the chain; `check` fails on it.
       */
      chain: ChainLink | null;
      reason: string;
    }
  );

/** The kinds of line. */
export type LineKind = ReportLine["kind"];

/** Lines longer than this (bytes) are malformed unread: the guard never writes one over 64 KiB. */
export const MAX_LINE_BYTES = 1024 * 1024;

const HEX64 = /^[0-9a-f]{64}$/;
const REPORT_ID = /^[0-9a-f]{32}$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

const ACTIONS = ["warned", "reported", "blocked", "allowed", "violation"];
const MODES = ["off", "warn", "report", "block"];
const DETECTORS = ["sdk", "fetch", "http", "http2", "websocket", "undici", "manual"];
const VIOLATIONS = ["unregistered", "expired", "provider", "model"];

type Json = Record<string, unknown>;

const isString = (v: unknown): v is string => typeof v === "string";
const isStringOrNull = (v: unknown): boolean => v === null || typeof v === "string";
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
/** A `seq`: a positive safe integer (anything else — −5, 1.5, 10^400 — is a broken line). */
export const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const isTime = (v: unknown): v is string =>
  typeof v === "string" && ISO_TIME.test(v) && Number.isFinite(Date.parse(v));

/** Each field of a version-1 `ai_call` record and the type the contract gives it. */
const AI_CALL_FIELDS: ReadonlyArray<[keyof GuardRecord, (v: unknown) => boolean, string]> = [
  ["ts", isTime, "an ISO 8601 time"],
  ["attested", (v) => typeof v === "boolean", "true or false"],
  ["action", (v) => ACTIONS.includes(v as string), `one of ${ACTIONS.join(", ")}`],
  ["mode", (v) => MODES.includes(v as string), `one of ${MODES.join(", ")}`],
  ["provider", isString, "a string"],
  ["operation", isStringOrNull, "a string or null"],
  ["model", isStringOrNull, "a string or null"],
  ["target", isString, "a string"],
  ["detector", (v) => DETECTORS.includes(v as string), `one of ${DETECTORS.join(", ")}`],
  ["server", isStringOrNull, "a string or null"],
  ["call_site", isStringOrNull, "a string or null"],
  ["stack", (v) => Array.isArray(v) && v.every(isString), "a list of strings"],
  ["runtime", isString, "a string"],
  ["service", isStringOrNull, "a string or null"],
  ["pid", (v) => v === null || Number.isSafeInteger(v), "an integer or null"],
  ["attestation", isAttestation, "null or {id, reason}"],
  ["guard_version", isString, "a string"],
];

function isAttestation(v: unknown): boolean {
  if (v === null) return true;
  if (typeof v !== "object" || Array.isArray(v)) return false;
  const a = v as Json;
  return isStringOrNull(a.id) && isStringOrNull(a.reason) &&
    (a.owner === undefined || isStringOrNull(a.owner)) &&
    (a.ticket === undefined || isStringOrNull(a.ticket));
}

/** What is wrong with a version-1 record's fields, or `null` when every one is as typed. */
export function recordProblem(value: Json): string | null {
  if (value.event === "ai_call") {
    for (const [key, ok, expected] of AI_CALL_FIELDS) {
      if (!ok(value[key])) return `"${key}" is not ${expected}`;
    }
    if (value.port !== undefined && value.port !== null && !isCount(value.port)) {
      return `"port" is not an integer or null`;
    }
    if (value.violation !== undefined && !VIOLATIONS.includes(value.violation as string)) {
      return `"violation" is not one of ${VIOLATIONS.join(", ")}`;
    }
    return null;
  }
  // The contract fixes `count` (and `ts`) of a dropped record; the rest is typed when present.
  if (!isTime(value.ts)) return `"ts" is not an ISO 8601 time`;
  if (!isCount(value.count)) return `"count" is not a whole number`;
  for (const key of ["runtime", "service", "guard_version"] as const) {
    if (value[key] !== undefined && !isStringOrNull(value[key])) return `"${key}" is not a string`;
  }
  if (value.pid !== undefined && value.pid !== null && !Number.isSafeInteger(value.pid)) {
    return `"pid" is not an integer or null`;
  }
  return null;
}

type Classified = ReportLine extends infer L ? L extends LineAt ? Omit<L, keyof LineAt> : never
  : never;

const malformed = (reason: string, chain: ChainLink | null = null): Classified => ({
  kind: "malformed",
  chain,
  reason,
});

/**
 * Classifies one line's text (no newline). A line the chain writer wrote starts with its `seq`;
 * a `seq` repeated later in the same line (a record carrying its own) is malformed, since a JSON
 * reader keeps the last one and the chain the first.
 */
export function classifyLine(text: string): Classified {
  if (text.trim() === "") return { kind: "blank", chain: null };
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return malformed("not a JSON line (edited or torn)");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return malformed("not a JSON object");
  }
  const o = value as Json;
  let chain: ChainLink | null = null;
  if (o.seq !== undefined || o.prev !== undefined) {
    if (!isSeq(o.seq)) return malformed("seq is not a positive safe integer");
    if (!(o.prev === null ? o.seq === 1 : isString(o.prev) && HEX64.test(o.prev))) {
      return malformed(`seq ${o.seq}: prev is not a SHA-256 hex hash`);
    }
    const lead = /^\uFEFF?\{"seq":(\d+),/.exec(text);
    if (lead && lead[1] !== String(o.seq)) return malformed("seq appears twice in the line");
    chain = { seq: o.seq, prev: o.prev as string | null };
  }
  switch (o.event) {
    case "ai_call":
    case "dropped": {
      if (o.v !== 1) {
        return malformed(
          `${o.event === "ai_call" ? "an ai_call" : "a dropped"} record without "v": 1`,
          chain,
        );
      }
      const problem = recordProblem(o);
      if (problem) {
        return malformed(
          `${o.event === "ai_call" ? "an ai_call" : "a dropped"} record whose ${problem}`,
          chain,
        );
      }
      const { seq: _seq, prev: _prev, ...record } = o;
      return {
        kind: "record",
        record: record as unknown as GuardRecord | DroppedRecord,
        chain,
      };
    }
  }
  if (chain === null) return malformed(`an unchained line of event ${JSON.stringify(o.event)}`);
  switch (o.event) {
    case "seal":
      if (o.report !== undefined && !(isString(o.report) && REPORT_ID.test(o.report))) {
        return malformed("a seal whose report id is not 32 hex characters");
      }
      if (!isSeq(o.upto)) return malformed("a seal whose upto is not a positive safe integer");
      if (!isString(o.hash) || !HEX64.test(o.hash)) return malformed("a seal without a hash");
      if (!isString(o.sig) || !BASE64.test(o.sig)) return malformed("a seal without a signature");
      if (!isString(o.key_id) || !KEY_ID.test(o.key_id)) return malformed("a seal without key_id");
      return {
        kind: "seal",
        chain,
        report: (o.report as string | undefined) ?? null,
        upto: o.upto,
        hash: o.hash,
        sig: o.sig,
        keyId: o.key_id,
      };
    case "chain_start":
    case "rotated":
    case "report_id": {
      if (!isString(o.report) || !REPORT_ID.test(o.report)) {
        return malformed(`a ${o.event} line whose report id is not 32 hex characters`);
      }
      if (o.event === "chain_start") {
        if (chain.seq !== 1) return malformed("a chain_start line that is not seq 1");
        return { kind: "chain_start", chain, report: o.report };
      }
      if (o.event === "report_id") return { kind: "report_id", chain, report: o.report };
      if (o.dropped_upto !== null && !isSeq(o.dropped_upto)) {
        return malformed("a rotated line whose dropped_upto is not a seq or null");
      }
      return { kind: "rotated", chain, report: o.report, droppedUpto: o.dropped_upto };
    }
    case "recovered":
      // after_seq is null when nothing whole came before the fragment (the report's first write
      // was torn): then the recovered line itself starts the chain.
      if (
        !isCount(o.torn_bytes) || !(isCount(o.after_seq) || (o.after_seq === null && o.seq === 1))
      ) {
        return malformed("a recovered line whose torn_bytes or after_seq is not a whole number");
      }
      return { kind: "recovered", chain, tornBytes: o.torn_bytes, afterSeq: o.after_seq };
  }
  return malformed(
    `a line of unknown event ${String(JSON.stringify(o.event)).slice(0, 40)}`,
    chain,
  );
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Splits a file's bytes into lines and classifies each. */
export function classifyBytes(file: string, bytes: Uint8Array): ReportLine[] {
  const lines: ReportLine[] = [];
  let start = 0;
  let number = 0;
  while (start < bytes.length) {
    const nl = bytes.indexOf(10, start);
    const end = nl === -1 ? bytes.length : nl;
    number++;
    const at = { file, line: number, bytes: end - start, terminated: nl !== -1 };
    if (end - start > MAX_LINE_BYTES) {
      lines.push({ ...at, text: null, ...malformed(`a line over ${MAX_LINE_BYTES} bytes`) });
    } else {
      let text: string | null = null;
      try {
        text = utf8.decode(bytes.subarray(start, end));
      } catch {
        lines.push({ ...at, text: null, ...malformed("not valid UTF-8") });
      }
      if (text !== null) {
        const kind = text.charCodeAt(0) === 0xfeff && number > 1
          ? malformed("a byte order mark inside the file")
          : classifyLine(text);
        lines.push({ ...at, text, ...kind } as ReportLine);
      }
    }
    start = end + 1;
  }
  return lines;
}

/** The hex SHA-256 of a line as the chain hashes it (its bytes without the newline). */
export function lineHash(line: LineAt): string | null {
  return line.text === null ? null : sha256Hex(line.text);
}

/**
 * Whether line `i` is a fragment a crash tore and the next writer recovered: directly followed by
 * a `recovered` line that names its length. Whatever its content: a crash that cut only a line's
 * newline leaves a whole line the writer still counts as torn (its recovered line takes its seq).
 */
export function isRecoveredFragment(lines: readonly ReportLine[], i: number): boolean {
  const next = lines[i + 1];
  return next?.kind === "recovered" && next.tornBytes === lines[i]!.bytes &&
    lines[i]!.file === next.file;
}

/** A file of the report that could not be read, and why. */
export interface Unreadable {
  file: string;
  reason: string;
}

/** What {@link readReport} found. */
export interface ReportRead {
  /** The live path asked for. */
  path: string;
  /** The files read (backups oldest first, then the live file). */
  files: string[];
  /** Every line of them, in order. */
  lines: ReportLine[];
  /** Files that exist but were refused or could not be read. */
  unreadable: Unreadable[];
}

/**
 * The backups of `path` that exist (`guard_log.N.jsonl` for any N), oldest (highest N) first.
 */
export async function backupFiles(path: string): Promise<string[]> {
  const slash = path.lastIndexOf("/");
  const dir = slash === -1 ? "." : path.slice(0, slash) || "/";
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  // backupName(path, n) with the number cut out: the prefix and suffix around it.
  const marker = backupName(path, 0);
  const cut = marker.lastIndexOf(".0");
  const prefix = marker.slice(slash + 1, cut + 1);
  const suffix = marker.slice(cut + 2);
  const found: Array<[number, string]> = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(suffix)) continue;
    const middle = name.slice(prefix.length, name.length - suffix.length);
    if (!/^[1-9]\d{0,14}$/.test(middle)) continue;
    found.push([Number(middle), slash === -1 ? name : `${path.slice(0, slash)}/${name}`]);
  }
  return found.sort((a, b) => b[0] - a[0]).map(([, file]) => file);
}

const KIND_OF_FILE: ReadonlyArray<[string, (s: StatLike) => boolean]> = [
  ["a directory", (s) => s.isDirectory()],
  ["a FIFO", (s) => s.isFIFO()],
  ["a socket", (s) => s.isSocket()],
  ["a character device", (s) => s.isCharacterDevice()],
  ["a block device", (s) => s.isBlockDevice()],
];

interface StatLike {
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

/**
 * Reads one report file whole, or says why not. Opened `O_NONBLOCK` and checked with `fstat` on
 * the open descriptor: a FIFO, a device or a directory is refused without a blocking read, and a
 * file swapped after a check cannot slip past it.
 */
export async function readReportFile(
  file: string,
): Promise<{ bytes: Uint8Array } | { missing: true } | { reason: string }> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT" || (error as Error).name === "NotFound") return { missing: true };
    return { reason: code ?? "cannot open it" };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      const kind = KIND_OF_FILE.find(([, is]) => is(stat))?.[0] ?? "not a regular file";
      return { reason: `${kind}, not a regular file` };
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = new Uint8Array(Math.max(64 * 1024, Math.min(stat.size - total, 16 << 20)));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, total);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
    }
    if (chunks.length === 1) return { bytes: chunks[0]! };
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    return { bytes };
  } catch (error) {
    return { reason: (error as { code?: string }).code ?? "cannot read it" };
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * Reads the report at `path` and every backup of it, oldest first, and classifies every line.
 *
 * @example Count the unattested calls of a report
 * ```ts
 * import { readReport } from "./reader.ts";
 *
 * const { lines } = await readReport("./guard_log.jsonl");
 * const unattested = lines.filter((l) =>
 *   l.kind === "record" && l.record.event === "ai_call" && !l.record.attested
 * ).length;
 * ```
 */
export async function readReport(path: string): Promise<ReportRead> {
  const read: ReportRead = { path, files: [], lines: [], unreadable: [] };
  for (const file of [...await backupFiles(path), path]) {
    const found = await readReportFile(file);
    if ("missing" in found) continue;
    if ("reason" in found) {
      read.unreadable.push({ file, reason: found.reason });
      continue;
    }
    read.files.push(file);
    for (const line of classifyBytes(file, found.bytes)) read.lines.push(line);
  }
  return read;
}

/** The records of a read, in order. */
export function recordsOf(read: { lines: readonly ReportLine[] }): AnyRecord[] {
  const records: AnyRecord[] = [];
  for (const line of read.lines) if (line.kind === "record") records.push(line.record);
  return records;
}

/**
 * The malformed lines no crash recovery explains: everything but a torn fragment directly
 * followed by the `recovered` line that names its length.
 */
export function unexplainedMalformed(lines: readonly ReportLine[]): ReportLine[] {
  const out: ReportLine[] = [];
  lines.forEach((line, i) => {
    if (line.kind === "malformed" && !isRecoveredFragment(lines, i)) out.push(line);
  });
  return out;
}
