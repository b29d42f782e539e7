/**
 * Options: defaults, environment, validation. Precedence: code > environment > config file > defaults.
 *
 * @module
 */
import { type ProviderRule, validateRules } from "./detect/providers.ts";
import { type AttestationPolicy, policyProblem } from "./policy.ts";
import type { GuardMode, GuardRecord } from "./report/record.ts";
import type { Sink } from "./report/sink.ts";
import { envVar } from "./runtime.ts";

/** Names of the built-in sinks. */
export type SinkName = "otel" | "daemon" | "file" | "console" | "memory";

/** Anything with a `warn` method: console, @std/log, LogTape and pino loggers all fit. */
export interface GuardLogger {
  /** Receives one warning per unattested call site, and sink failures. */
  warn(message: string, ...rest: unknown[]): void;
}

/** A storage adapter (see `@aiguard/attest/storage/*`). */
export interface StorageAdapter {
  /** Appends encoded JSONL lines in one write; resolves when durable. */
  append(lines: string): Promise<void>;
  /**
   * Appends JSON lines given one per element (no newlines) in one write; resolves when durable.
   * Calls may overlap and must land in call order. When an adapter has it, the queue hands batches
   * this way (no joined batch to split again) and hands over the next batch once `onWrite` is
   * called: when this batch's bytes are on their way to the file.
   */
  appendLines?(lines: readonly string[], onWrite?: () => void): Promise<void>;
  /**
   * Exit paths only: writes lines synchronously (lock, chain, seal, rotation as appendLines)
   * before the process ends.
   */
  appendLinesSync?(lines: readonly string[]): void;
  /** Releases what the adapter holds. */
  close?(): Promise<void>;
  /** A short name for messages, e.g. `node-fs`. */
  readonly name: string;
}

/** Options of {@link enableGuard}; every field is optional. */
export interface GuardOptions {
  /** `off`, `warn` (default), `report` or `block`. */
  mode?: GuardMode;
  /** AI SDK classes or module namespaces to patch at prototype level. */
  clients?: unknown[];
  /**
   * Also import and patch every supported AI SDK that resolves from here (default `true`). Set
   * `false` to patch only `clients`: an installed SDK the app never loads then costs nothing.
   */
  discover?: boolean;
  /** Extra provider rules for the fetch layer. */
  providers?: ProviderRule[];
  /** `"auto"` (default) or a list of sink names and sink functions. */
  sinks?: "auto" | Array<SinkName | Sink>;
  /** Storage adapter for the `file` sink (overrides the runtime's default). */
  storage?: StorageAdapter;
  /** Path of the JSONL report; default `~/.aiguard/guard_log.jsonl`. */
  reportPath?: string;
  /** Rotation threshold in bytes; default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept; default 3. */
  backups?: number;
  /** Daemon socket; default `~/.aiguard/guard.sock`. */
  socketPath?: string;
  /** Service name on every record; default `OTEL_SERVICE_NAME` or `null`. */
  service?: string | null;
  /** Also emit records and spans for attested calls (action `allowed`). */
  traceAttested?: boolean;
  /** Where warnings go; default `console`. */
  logger?: GuardLogger;
  /** Called with every record the guard produces. */
  onRecord?: (record: GuardRecord) => void;
  /**
   * Attestation policy: registered attestation ids (owner, ticket, expiry, providers, models),
   * `requireRegistered`, and the models any call may use. A call that breaks it is recorded with
   * action `violation`, or blocked in block mode (attested calls included).
   */
  policy?: AttestationPolicy;
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  /** Guard mode at the time. */
  mode: GuardMode;
  clients: unknown[];
  discover: boolean;
  providers: ProviderRule[];
  sinks: "auto" | Array<SinkName | Sink>;
  storage: StorageAdapter | null;
  reportPath: string;
  maxBytes: number;
  backups: number;
  socketPath: string;
  /** Service name, or `null`. */
  service: string | null;
  traceAttested: boolean;
  logger: GuardLogger;
  onRecord: ((record: GuardRecord) => void) | null;
  policy: AttestationPolicy | null;
}

const MODES: readonly GuardMode[] = ["off", "warn", "report", "block"];
const SINK_NAMES: readonly SinkName[] = ["otel", "daemon", "file", "console", "memory"];
const KEYS = [
  "mode",
  "clients",
  "discover",
  "providers",
  "sinks",
  "storage",
  "reportPath",
  "maxBytes",
  "backups",
  "socketPath",
  "service",
  "traceAttested",
  "logger",
  "onRecord",
  "policy",
] as const;

/** Keys that a config file (JSON) may set. */
export const FILE_KEYS: readonly string[] = [
  "mode",
  "providers",
  "sinks",
  "reportPath",
  "maxBytes",
  "backups",
  "socketPath",
  "service",
  "traceAttested",
  "discover",
  "policy",
];

function homeDir(): string {
  return envVar("HOME") ?? envVar("USERPROFILE") ?? ".";
}

/** The default report directory, `~/.aiguard`. */
export function defaultDir(): string {
  return `${homeDir()}/.aiguard`;
}

/** The default report, `~/.aiguard/guard_log.jsonl`. */
export function defaultReportPath(): string {
  return `${defaultDir()}/guard_log.jsonl`;
}

/** The default daemon socket, `~/.aiguard/guard.sock`. */
export function defaultSocketPath(): string {
  return `${defaultDir()}/guard.sock`;
}

/** An error naming where a bad option came from, the key, and what was expected. */
export class ConfigError extends TypeError {
  constructor(source: string, key: string, expected: string, got: unknown) {
    const shown = typeof got === "string" ? JSON.stringify(got) : typeof got;
    super(`Invalid aiguard option "${key}" in ${source}: expected ${expected}, got ${shown}.`);
    this.name = "ConfigError";
  }
}

/** Checks one layer of options (code, env or file), naming the source and the key on error. */
export function validateOptions(options: unknown, source: string): GuardOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object") throw new ConfigError(source, "(options)", "an object", options);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(source, key, `one of the keys ${KEYS.join(", ")}`, key);
    }
  }
  const check = (key: string, ok: (v: unknown) => boolean, expected: string) => {
    if (o[key] !== undefined && !ok(o[key])) throw new ConfigError(source, key, expected, o[key]);
  };
  check("mode", (v) => MODES.includes(v as GuardMode), `one of ${MODES.join(", ")}`);
  check("clients", Array.isArray, "an array of SDK classes or modules");
  check(
    "sinks",
    (v) =>
      v === "auto" ||
      (Array.isArray(v) &&
        v.every((s) => typeof s === "function" || SINK_NAMES.includes(s as SinkName))),
    `"auto" or a list of ${SINK_NAMES.join(", ")} or sink functions`,
  );
  check(
    "storage",
    (v) =>
      typeof v === "object" && v !== null && typeof (v as StorageAdapter).append === "function",
    "a storage adapter (an object with append())",
  );
  for (const key of ["reportPath", "socketPath"]) {
    check(key, (v) => typeof v === "string" && v.length > 0, "a non-empty string");
  }
  check("maxBytes", (v) => Number.isInteger(v) && (v as number) >= 1024, "an integer ≥ 1024");
  check("backups", (v) => Number.isInteger(v) && (v as number) >= 0, "an integer ≥ 0");
  check("service", (v) => v === null || typeof v === "string", "a string or null");
  check("traceAttested", (v) => typeof v === "boolean", "true or false");
  check("discover", (v) => typeof v === "boolean", "true or false");
  check(
    "logger",
    (v) => typeof v === "object" && v !== null && typeof (v as GuardLogger).warn === "function",
    "an object with a warn() method",
  );
  check("onRecord", (v) => typeof v === "function", "a function");
  if (o.policy !== undefined) {
    const problem = policyProblem(o.policy);
    if (problem) throw new ConfigError(source, problem.key, problem.expected, problem.got);
  }
  if (o.providers !== undefined) {
    try {
      validateRules(o.providers);
    } catch (error) {
      throw new ConfigError(source, "providers", (error as Error).message, o.providers);
    }
  }
  return o as GuardOptions;
}

/** Options from `AIGUARD_*` variables. */
export function optionsFromEnv(): GuardOptions {
  const env: Record<string, unknown> = {};
  const mode = envVar("AIGUARD_MODE");
  if (mode) env.mode = mode.trim().toLowerCase();
  const reportPath = envVar("AIGUARD_REPORT_PATH");
  if (reportPath) env.reportPath = reportPath;
  const socket = envVar("AIGUARD_SOCKET");
  if (socket) env.socketPath = socket;
  const sinks = envVar("AIGUARD_SINKS");
  if (sinks) {
    const list = sinks.split(",").map((s) => s.trim()).filter(Boolean);
    env.sinks = list.length === 1 && list[0] === "auto" ? "auto" : list;
  }
  const service = envVar("AIGUARD_SERVICE");
  if (service) env.service = service;
  for (
    const [name, key] of [["AIGUARD_DISCOVER", "discover"], [
      "AIGUARD_TRACE_ATTESTED",
      "traceAttested",
    ]]
  ) {
    const value = envVar(name!)?.trim().toLowerCase();
    if (!value) continue;
    const flag =
      ({ true: true, "1": true, yes: true, false: false, "0": false, no: false } as Record<
        string,
        boolean
      >)[value];
    env[key!] = flag ?? value; // anything else fails validation below, naming the key
  }
  for (const [name, key] of [["AIGUARD_MAX_BYTES", "maxBytes"], ["AIGUARD_BACKUPS", "backups"]]) {
    const value = envVar(name!)?.trim();
    if (value) env[key!] = /^\d+$/.test(value) ? Number(value) : value;
  }
  return validateOptions(env, "the environment (AIGUARD_*)");
}

/** Merges layers, highest precedence first, and fills defaults. */
export function resolveOptions(...layers: GuardOptions[]): ResolvedOptions {
  const pick = <K extends keyof GuardOptions>(key: K): GuardOptions[K] | undefined => {
    for (const layer of layers) if (layer[key] !== undefined) return layer[key];
    return undefined;
  };
  return {
    mode: pick("mode") ?? "warn",
    clients: pick("clients") ?? [],
    discover: pick("discover") ?? true,
    providers: pick("providers") ?? [],
    sinks: pick("sinks") ?? "auto",
    storage: pick("storage") ?? null,
    reportPath: pick("reportPath") ?? defaultReportPath(),
    maxBytes: pick("maxBytes") ?? 10 * 1024 * 1024,
    backups: pick("backups") ?? 3,
    socketPath: pick("socketPath") ?? defaultSocketPath(),
    service: pick("service") ?? envVar("OTEL_SERVICE_NAME") ?? null,
    traceAttested: pick("traceAttested") ?? false,
    logger: pick("logger") ?? console,
    onRecord: pick("onRecord") ?? null,
    policy: pick("policy") ?? null,
  };
}
