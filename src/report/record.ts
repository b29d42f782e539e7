/**
 * The record: one JSON object per line. This file owns the schema and its encoding; nothing else
 * builds a record or a line.
 *
 * @module
 */
import { VERSION } from "../version.ts";

/**
 * The record format version this copy writes (`v` of every record): a reader compares it before
 * reading a record's other fields.
 *
 * @example
 * ```ts
 * import { RECORD_V } from "@aiguard/attest";
 *
 * const record = { v: 1, event: "ai_call" };
 * if (record.v !== RECORD_V) throw new Error(`record format v${record.v} is not v${RECORD_V}`);
 * ```
 */
export const RECORD_V = 1;

/** The most application frames a record's `stack` holds, innermost first. */
export const MAX_FRAMES = 8;

/** Guard modes. */
export type GuardMode = "off" | "warn" | "report" | "block";
/** What the guard did about a call. */
export type RecordAction = "warned" | "reported" | "blocked" | "allowed" | "violation";
/** The layer that saw the call. */
export type Detector =
  | "sdk"
  | "fetch"
  | "http"
  | "http2"
  | "websocket"
  | "undici"
  | "socket"
  | "manual";

/** One AI call as written to every sink (record format {@link RECORD_V}). */
export interface GuardRecord {
  /** Record format version. */
  v: typeof RECORD_V;
  /** ISO 8601 time of the call. */
  ts: string;
  /** Record kind. */
  event: "ai_call";
  /** Whether the call ran inside attest(). */
  attested: boolean;
  /** What the guard did. */
  action: RecordAction;
  /** Guard mode at the time. */
  mode: GuardMode;
  /** GenAI provider name, e.g. `openai`. */
  provider: string;
  /** GenAI operation name, e.g. `chat`. */
  operation: string | null;
  /** Requested model, when readable without consuming the request. */
  model: string | null;
  /** What was called, e.g. `openai.chat.completions.create`. */
  target: string;
  /** The layer that saw the call. */
  detector: Detector;
  /** Server host name. */
  server: string | null;
  /** Extra field (allowed by the format): server port, for `server.port` on spans. */
  port: number | null;
  /** First application frame, `path:line:column`. */
  call_site: string | null;
  /** Up to {@link MAX_FRAMES} application frames. */
  stack: string[];
  /** `deno`, `bun`, `node`, `workerd`, …. */
  runtime: string;
  /** Service name, or `null`. */
  service: string | null;
  /** Process id, or `null` on edge runtimes. */
  pid: number | null;
  /**
   * `{ id, reason }` of attested calls (with the policy's `owner` and `ticket` when the id is
   * registered), else `null`.
   */
  attestation:
    | { id: string | null; reason: string | null; owner?: string | null; ticket?: string | null }
    | null;
  /** Present when the call broke the attestation policy: which rule. */
  violation?: "unregistered" | "expired" | "provider" | "model";
  /** aiguard version. */
  guard_version: string;
}

/** Written once room returns after the queue had to drop records. */
export interface DroppedRecord {
  /** Record format version. */
  v: typeof RECORD_V;
  /** ISO 8601 time of the call. */
  ts: string;
  /** Record kind. */
  event: "dropped";
  /** How many records were dropped. */
  count: number;
  /** `deno`, `bun`, `node`, `workerd`, …. */
  runtime: string;
  /** Service name, or `null`. */
  service: string | null;
  /** Process id, or `null` on edge runtimes. */
  pid: number | null;
  /** aiguard version. */
  guard_version: string;
}

/** Any line of a report file. */
export type AnyRecord = GuardRecord | DroppedRecord;

const MAX_STRING = 512;

/** Most strings {@link cap} remembers; past it, it starts again. */
const MAX_KNOWN = 1024;
/** A string per value seen lately (`cap`): calls repeat the same model, host, target. */
const known = new Map<string, string>();

/**
 * The value, length-capped; a short one as the first equal string seen lately: a record held a
 * while then holds a string many records share, not one of its own (one per call, from the body
 * or the URL), which would outlive V8's young generation with it (bench/NOTES.md).
 */
function cap(value: string | null): string | null {
  if (value === null) return null;
  if (value.length > MAX_STRING) return `${value.slice(0, MAX_STRING - 1)}…`;
  const kept = known.get(value);
  if (kept !== undefined) return kept;
  if (known.size >= MAX_KNOWN) known.clear();
  known.set(value, value);
  return value;
}

/**
 * Capped, frozen copies of the stacks given, per array: call sites repeat, and the call-site
 * reduction hands out one frozen array per stack text, so a call site's records share one copy
 * instead of each making (and the guard then freezing) its own. Only frozen arrays are remembered:
 * another could change after its record was made.
 */
const cappedStacks = new WeakMap<readonly string[], readonly string[]>();

function cappedStack(stack: readonly string[]): string[] {
  let capped = cappedStacks.get(stack);
  if (capped === undefined) {
    capped = Object.freeze(stack.slice(0, MAX_FRAMES).map((frame) => cap(frame)!));
    if (Object.isFrozen(stack)) cappedStacks.set(stack, capped);
  }
  return capped as string[];
}

/** The fields a detector knows about a call: those of its record, as the record names them. */
export type CallFacts = Pick<
  GuardRecord,
  "provider" | "operation" | "model" | "target" | "detector" | "server" | "port"
>;

/** The fields fixed for one process. */
export interface ProcessFacts {
  /** `deno`, `bun`, `node`, `workerd`, …. */
  runtime: string;
  /** Service name, or `null`. */
  service: string | null;
  /** Process id, or `null` on edge runtimes. */
  pid: number | null;
}

/** The ISO time of the last millisecond asked for, and that millisecond. */
let lastIso = "";
let lastIsoMs = Number.NaN;

/**
 * `new Date(ms).toISOString()`, once per millisecond: calls a few microseconds apart share one
 * string (records held in the ring and the queue hold one copy, not one each).
 */
export function isoTime(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIso = new Date(ms).toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}

/** Builds a record; every string is length-capped here, once. Its `stack` is frozen. */
export function makeRecord(
  call: CallFacts,
  decision: {
    action: RecordAction;
    mode: GuardMode;
    attestation: GuardRecord["attestation"];
    callSite: string | null;
    stack: string[];
    violation?: GuardRecord["violation"] | null;
  },
  /** Facts fixed for the process. */
  proc: ProcessFacts,
  /** When the call was made, ms since the epoch. */
  now: number = Date.now(),
): GuardRecord {
  const given = decision.attestation;
  // Built field by field, not with spreads in the literal (V8 builds those the slow way); the keys
  // keep the order records are written in: a violation, when there is one, before guard_version.
  const record: Omit<GuardRecord, "guard_version"> & { guard_version?: string } = {
    v: RECORD_V,
    ts: isoTime(now),
    event: "ai_call",
    attested: given !== null,
    action: decision.action,
    mode: decision.mode,
    provider: cap(call.provider)!,
    operation: cap(call.operation),
    model: cap(call.model),
    target: cap(call.target)!,
    detector: call.detector,
    server: cap(call.server),
    port: call.port,
    call_site: cap(decision.callSite),
    stack: cappedStack(decision.stack),
    runtime: proc.runtime,
    service: cap(proc.service),
    pid: proc.pid,
    attestation: given && attestationOf(given),
  };
  if (decision.violation) record.violation = decision.violation;
  record.guard_version = VERSION;
  return record as GuardRecord;
}

function attestationOf(given: NonNullable<GuardRecord["attestation"]>): GuardRecord["attestation"] {
  const kept: NonNullable<GuardRecord["attestation"]> = {
    id: cap(given.id),
    reason: cap(given.reason),
  };
  if (given.owner != null || given.ticket != null) {
    kept.owner = cap(given.owner ?? null);
    kept.ticket = cap(given.ticket ?? null);
  }
  return kept;
}

/** Builds the record that counts drops. */
export function makeDroppedRecord(count: number, proc: ProcessFacts): DroppedRecord {
  return {
    v: RECORD_V,
    ts: new Date().toISOString(),
    event: "dropped",
    count,
    runtime: proc.runtime,
    service: proc.service,
    pid: proc.pid,
    guard_version: VERSION,
  };
}

/**
 * One record as JSON on one line, without its newline. JSON.stringify escapes every control
 * character, so a record can never span two lines; U+2028/U+2029 are escaped too for readers that
 * split on them.
 */
export function encodeJson(record: AnyRecord): string {
  const stack = (record as { stack?: unknown }).stack;
  // A frozen array takes every runtime's JSON.stringify off its fast path (a record ~3× slower
  // to encode, bench/NOTES.md): the record's stack, frozen, is encoded from a plain copy. The
  // spread keeps the keys' order; `stack` keeps its place.
  const json = JSON.stringify(Array.isArray(stack) ? { ...record, stack: [...stack] } : record);
  return json.indexOf("\u2028") === -1 && json.indexOf("\u2029") === -1
    ? json
    : json.replace(/[\u2028\u2029]/g, (c) => c === "\u2028" ? "\\u2028" : "\\u2029");
}

/** One JSONL line, `\n`-terminated (see {@link encodeJson}). */
export function encodeLine(record: AnyRecord): string {
  return `${encodeJson(record)}\n`;
}

/** Checks one field's value as the record format allows it. */
type FieldCheck = (value: unknown) => boolean;

const isString: FieldCheck = (v) => typeof v === "string" && v.length <= MAX_STRING;
const isStringOrNull: FieldCheck = (v) => v === null || isString(v);
const isOneOf = (...values: unknown[]): FieldCheck => (v) => values.includes(v);
const isCount: FieldCheck = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const isCountOrNull: FieldCheck = (v) => v === null || isCount(v);
const isTimestamp: FieldCheck = (v) =>
  typeof v === "string" && v.length <= 40 && !Number.isNaN(Date.parse(v));

const ACTIONS: readonly RecordAction[] = ["warned", "reported", "blocked", "allowed", "violation"];
const MODES: readonly GuardMode[] = ["off", "warn", "report", "block"];
const DETECTORS: readonly Detector[] = [
  "sdk",
  "fetch",
  "http",
  "http2",
  "websocket",
  "undici",
  "manual",
];
const VIOLATIONS: readonly NonNullable<GuardRecord["violation"]>[] = [
  "unregistered",
  "expired",
  "provider",
  "model",
];

/** A field of the record format: how its value is checked, and whether a record may lack it. */
interface FieldRule {
  check: FieldCheck;
  optional?: true;
}

const ATTESTATION_FIELDS: Readonly<Record<string, FieldRule>> = {
  id: { check: isStringOrNull },
  reason: { check: isStringOrNull },
  owner: { check: isStringOrNull, optional: true },
  ticket: { check: isStringOrNull, optional: true },
};

const COMMON_FIELDS = {
  v: { check: isOneOf(1) },
  ts: { check: isTimestamp },
  runtime: { check: isString },
  service: { check: isStringOrNull },
  pid: { check: isCountOrNull },
  guard_version: { check: isString },
} satisfies Record<string, FieldRule>;

/**
 * Every field a record may carry, with its check: the Record section of the contract plus the
 * extras this version writes (`port`, `violation`, the attestation's `owner`/`ticket`). Typed
 * against the record interfaces, so a field added there and not here fails to compile. A reader
 * that must vouch for a record (the daemon) keeps these and nothing else.
 */
export const RECORD_FIELDS: {
  readonly ai_call: { readonly [K in keyof GuardRecord]-?: FieldRule };
  readonly dropped: { readonly [K in keyof DroppedRecord]-?: FieldRule };
} = {
  ai_call: {
    ...COMMON_FIELDS,
    event: { check: isOneOf("ai_call") },
    attested: { check: (v) => typeof v === "boolean" },
    action: { check: isOneOf(...ACTIONS) },
    mode: { check: isOneOf(...MODES) },
    provider: { check: isString },
    operation: { check: isStringOrNull },
    model: { check: isStringOrNull },
    target: { check: isString },
    detector: { check: isOneOf(...DETECTORS) },
    server: { check: isStringOrNull },
    // Older clients wrote no port.
    port: { check: (v) => v === null || (isCount(v) && (v as number) <= 65535), optional: true },
    call_site: { check: isStringOrNull },
    stack: { check: (v) => Array.isArray(v) && v.length <= MAX_FRAMES && v.every(isString) },
    attestation: {
      check: (v) =>
        v === null || (typeof v === "object" && !Array.isArray(v) &&
          pickFields(v as Record<string, unknown>, ATTESTATION_FIELDS) !== null),
    },
    violation: { check: isOneOf(...VIOLATIONS), optional: true },
  },
  dropped: {
    ...COMMON_FIELDS,
    event: { check: isOneOf("dropped") },
    count: { check: isCount },
  },
};

/** The fields `rules` allows, each checked; `null` when one is missing or wrongly typed. */
function pickFields(
  value: Record<string, unknown>,
  rules: Readonly<Record<string, FieldRule>>,
): Record<string, unknown> | null {
  const kept: Record<string, unknown> = {};
  for (const [name, rule] of Object.entries(rules)) {
    if (!Object.hasOwn(value, name)) {
      if (rule.optional) continue;
      return null;
    }
    const field = value[name];
    if (!rule.check(field)) return null;
    kept[name] = name === "attestation" && field !== null
      ? pickFields(field as Record<string, unknown>, ATTESTATION_FIELDS)
      : name === "stack"
      ? [...(field as string[])]
      : field;
  }
  return kept;
}

/**
 * A record rebuilt from what someone else sent, keeping only {@link RECORD_FIELDS}: anything else
 * (a prompt, headers, a key, a client's own `seq`/`prev`) is left out, never copied. `null` when
 * a field the format requires is missing or wrongly typed: such a record is not written at all.
 *
 * @example Keep a record's own fields only
 * ```ts
 * import { vouchRecord } from "./record.ts";
 *
 * const sent = {
 *   v: 1, ts: "2026-11-23T16:00:00.000Z", event: "dropped", count: 3,
 *   runtime: "node", service: null, pid: 7, guard_version: "0.1.0", prompt: "a secret",
 * };
 * vouchRecord(sent); // the same record without `prompt`
 * vouchRecord({ ...sent, count: "3" }); // null: a wrongly typed field
 * ```
 */
export function vouchRecord(value: unknown): AnyRecord | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const event = (value as { event?: unknown }).event;
  const rules = event === "ai_call"
    ? RECORD_FIELDS.ai_call
    : event === "dropped"
    ? RECORD_FIELDS.dropped
    : null;
  if (rules === null) return null;
  return pickFields(value as Record<string, unknown>, rules) as AnyRecord | null;
}

/** Parses one line; `null` for anything that is not a record of this format ({@link RECORD_V}). */
export function decodeLine(line: string): AnyRecord | null {
  try {
    const value = JSON.parse(line) as AnyRecord;
    if (value === null || typeof value !== "object" || value.v !== RECORD_V) return null;
    if (value.event !== "ai_call" && value.event !== "dropped") return null;
    return value;
  } catch {
    return null;
  }
}
