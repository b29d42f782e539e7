/**
 * Options: defaults, environment, validation. Precedence: code > environment > config file > defaults.
 *
 * @module
 */
import { type ProviderRule, validateRules } from "./detect/providers.ts";
import { type AttestationPolicy, policyProblem } from "./policy.ts";
import type { GuardMode, GuardRecord } from "./report/record.ts";
import type { Sink } from "./report/sink.ts";
import type { LineBatch } from "./report/line_batch.ts";
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
   * The same for lines given as their UTF-8 bytes: the queue hands batches this way where an
   * adapter has it, so that no line is a string while its batch waits (see `LineBatch`). The
   * bytes are the queue's again once the returned promise settles: read (or copy) them before.
   */
  appendBatch?(batch: LineBatch, onWrite?: () => void): Promise<void>;
  /**
   * Exit paths only: writes lines synchronously (lock, chain, seal, rotation as appendLines)
   * before the process ends; throws what kept it from writing them.
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
  /**
   * `AIGUARD_SIGNING_KEY` (environment only): an Ed25519 private key, the PEM text or a path.
   * Never printed; loaded by `src/storage/_signing_key.ts`.
   */
  signingKey: string | null;
}

const MODES: readonly GuardMode[] = ["off", "warn", "report", "block"];
const SINK_NAMES: readonly SinkName[] = ["otel", "daemon", "file", "console", "memory"];

const FLAG_WORDS: Record<string, boolean> = {
  true: true,
  "1": true,
  yes: true,
  false: false,
  "0": false,
  no: false,
};
/** `true`/`false`, `1`/`0`, `yes`/`no`; anything else is kept, so validation names the key. */
const envFlag = (text: string): unknown => FLAG_WORDS[text.trim().toLowerCase()] ?? text;
/** Digits become a number; anything else is kept, so validation names the key. */
const envInteger = (text: string): unknown =>
  /^\d+$/.test(text.trim()) ? Number(text.trim()) : text;
const isNonEmptyString = (v: unknown): boolean => typeof v === "string" && v.length > 0;

/** One row of {@link OPTIONS}: an option, where it may be set, its default and its check. */
export interface OptionSpec {
  /** The option's name in code and in `aiguard.jsonc`. */
  readonly key: keyof ResolvedOptions;
  /** Its `AIGUARD_*` variable, if it has one. */
  readonly env: string | null;
  /** Whether `aiguard.jsonc` may set it (serialisable options only). */
  readonly file: boolean;
  /** Whether `enableGuard()` options may set it. */
  readonly code: boolean;
  /** The default, as the README shows it. */
  readonly shownDefault: string;
  /** The default value (a function: some depend on HOME or on other variables). */
  readonly defaultValue: () => unknown;
  /** What a valid value is, for error messages and the README. */
  readonly expected: string;
  /** Whether a value is valid. */
  readonly check: (v: unknown) => boolean;
  /** Turns the variable's text into a value (the text itself when absent). */
  readonly fromEnv?: (text: string) => unknown;
}

/**
 * Every option of the guard and the CLI, once: the guard's resolution, the CLI's settings, the
 * config file's keys and the README's list are all derived from this table.
 */
export const OPTIONS: readonly OptionSpec[] = [
  {
    key: "mode",
    env: "AIGUARD_MODE",
    file: true,
    code: true,
    shownDefault: '"warn"',
    defaultValue: () => "warn",
    expected: `one of ${MODES.join(", ")}`,
    check: (v) => MODES.includes(v as GuardMode),
    fromEnv: (text) => text.trim().toLowerCase(),
  },
  {
    key: "clients",
    env: null,
    file: false,
    code: true,
    shownDefault: "[]",
    defaultValue: () => [],
    expected: "an array of SDK classes or modules",
    check: Array.isArray,
  },
  {
    key: "discover",
    env: "AIGUARD_DISCOVER",
    file: true,
    code: true,
    shownDefault: "true",
    defaultValue: () => true,
    expected: "true or false",
    check: (v) => typeof v === "boolean",
    fromEnv: envFlag,
  },
  {
    key: "providers",
    env: null,
    file: true,
    code: true,
    shownDefault: "[]",
    defaultValue: () => [],
    expected: "a list of provider rules",
    check: (v) => {
      validateRules(v); // throws with what is wrong; validateOptions names the key
      return true;
    },
  },
  {
    key: "sinks",
    env: "AIGUARD_SINKS",
    file: true,
    code: true,
    shownDefault: '"auto"',
    defaultValue: () => "auto",
    expected: `"auto" or a list of ${SINK_NAMES.join(", ")} or sink functions`,
    check: (v) =>
      v === "auto" ||
      (Array.isArray(v) &&
        v.every((s) => typeof s === "function" || SINK_NAMES.includes(s as SinkName))),
    fromEnv: (text) => {
      const list = text.split(",").map((s) => s.trim()).filter(Boolean);
      return list.length === 1 && list[0] === "auto" ? "auto" : list;
    },
  },
  {
    key: "storage",
    env: null,
    file: false,
    code: true,
    shownDefault: "by runtime",
    defaultValue: () => null,
    expected: "a storage adapter (an object with append())",
    check: (v) =>
      typeof v === "object" && v !== null && typeof (v as StorageAdapter).append === "function",
  },
  {
    key: "reportPath",
    env: "AIGUARD_REPORT_PATH",
    file: true,
    code: true,
    shownDefault: "`~/.aiguard/guard_log.jsonl`",
    defaultValue: () => defaultReportPath(),
    expected: "a non-empty string",
    check: isNonEmptyString,
  },
  {
    key: "maxBytes",
    env: "AIGUARD_MAX_BYTES",
    file: true,
    code: true,
    shownDefault: "10485760 (10 MiB)",
    defaultValue: () => 10 * 1024 * 1024,
    expected: "an integer ≥ 1024",
    check: (v) => Number.isSafeInteger(v) && (v as number) >= 1024,
    fromEnv: envInteger,
  },
  {
    key: "backups",
    env: "AIGUARD_BACKUPS",
    file: true,
    code: true,
    shownDefault: "3",
    defaultValue: () => 3,
    expected: "an integer ≥ 0",
    check: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
    fromEnv: envInteger,
  },
  {
    key: "socketPath",
    env: "AIGUARD_SOCKET",
    file: true,
    code: true,
    shownDefault: "`~/.aiguard/guard.sock`",
    defaultValue: () => defaultSocketPath(),
    expected: "a non-empty string",
    check: isNonEmptyString,
  },
  {
    key: "service",
    env: "AIGUARD_SERVICE",
    file: true,
    code: true,
    shownDefault: "`OTEL_SERVICE_NAME` or null",
    defaultValue: () => envVar("OTEL_SERVICE_NAME") ?? null,
    expected: "a string or null",
    check: (v) => v === null || typeof v === "string",
  },
  {
    key: "traceAttested",
    env: "AIGUARD_TRACE_ATTESTED",
    file: true,
    code: true,
    shownDefault: "false",
    defaultValue: () => false,
    expected: "true or false",
    check: (v) => typeof v === "boolean",
    fromEnv: envFlag,
  },
  {
    key: "logger",
    env: null,
    file: false,
    code: true,
    shownDefault: "console",
    defaultValue: () => console,
    expected: "an object with a warn() method",
    check: (v) =>
      typeof v === "object" && v !== null && typeof (v as GuardLogger).warn === "function",
  },
  {
    key: "onRecord",
    env: null,
    file: false,
    code: true,
    shownDefault: "none",
    defaultValue: () => null,
    expected: "a function",
    check: (v) => typeof v === "function",
  },
  {
    key: "policy",
    env: null,
    file: true,
    code: true,
    shownDefault: "none",
    defaultValue: () => null,
    expected: "an attestation policy",
    check: () => true, // policyProblem() names the exact key, in validateOptions
  },
  {
    // Only from the environment: a key in code or in a committed file invites leaking it.
    key: "signingKey",
    env: "AIGUARD_SIGNING_KEY",
    file: false,
    code: false,
    shownDefault: "none (no seals)",
    defaultValue: () => null,
    expected: "an Ed25519 private key (PKCS#8 PEM): the PEM text or a file's path",
    check: isNonEmptyString,
  },
];

const CODE_KEYS: readonly string[] = OPTIONS.filter((o) => o.code).map((o) => o.key);

/** Keys that a config file (JSON) may set. */
export const FILE_KEYS: readonly string[] = OPTIONS.filter((o) => o.file).map((o) => o.key);

/**
 * The README's list of options, as a Markdown table laid out as `deno fmt` lays it out
 * (`deno run -A scripts/readme_options.ts` writes it there).
 *
 * @example
 * ```ts
 * import { optionsMarkdown } from "./config.ts";
 *
 * console.log(optionsMarkdown());
 * ```
 */
export function optionsMarkdown(): string {
  const rows = [
    ["option", "default", "variable", "in `aiguard.jsonc`", "expected"],
    ...OPTIONS.map((o) => [
      `\`${o.key}\``,
      o.shownDefault,
      o.env ? `\`${o.env}\`` : "—",
      o.file ? "yes" : "no",
      o.expected,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [
    line(rows[0]!),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.slice(1).map(line),
  ].join("\n");
}

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
export function validateOptions(
  options: unknown,
  source: string,
  keys: readonly string[] = CODE_KEYS,
): GuardOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object") throw new ConfigError(source, "(options)", "an object", options);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!keys.includes(key)) {
      throw new ConfigError(source, key, `one of the keys ${keys.join(", ")}`, key);
    }
  }
  for (const spec of OPTIONS) {
    const value = o[spec.key];
    if (value === undefined) continue;
    let ok: boolean;
    let expected = spec.expected;
    try {
      ok = spec.check(value);
    } catch (error) {
      ok = false;
      expected = (error as Error).message;
    }
    if (!ok) throw new ConfigError(source, spec.key, expected, value);
  }
  if (o.policy !== undefined) {
    const problem = policyProblem(o.policy);
    if (problem) throw new ConfigError(source, problem.key, problem.expected, problem.got);
  }
  return o as GuardOptions;
}

/** Options from `AIGUARD_*` variables (those {@link OPTIONS} gives one). */
export function optionsFromEnv(): GuardOptions {
  const env: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    if (spec.env === null || !spec.code) continue;
    const text = envVar(spec.env);
    if (text === undefined || text.trim() === "") continue;
    env[spec.key] = spec.fromEnv ? spec.fromEnv(text) : text;
  }
  return validateOptions(env, "the environment (AIGUARD_*)");
}

/** Merges layers, highest precedence first, and fills defaults. */
export function resolveOptions(...layers: GuardOptions[]): ResolvedOptions {
  const resolved: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    let value: unknown;
    for (const layer of layers) {
      value = (layer as Record<string, unknown>)[spec.key];
      if (value !== undefined) break;
    }
    if (value === undefined && !spec.code && spec.env !== null) {
      const text = envVar(spec.env);
      if (text !== undefined && text.trim() !== "") value = text;
    }
    resolved[spec.key] = value ?? spec.defaultValue();
  }
  return resolved as unknown as ResolvedOptions;
}
