/**
 * What every `aiguard` command shares: the output interface, the usage error (exit 2 with a
 * one-line hint), the flag parser (`node:util` `parseArgs`, which Node, Deno and Bun all have) and
 * the default paths.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type GuardOptions, optionsFromEnv, resolveOptions, validateOptions } from "../config.ts";
import { optionsFromConfigFile } from "../config_file.ts";

/** What a command writes and returns. */
export interface CliIo {
  /** Standard output. */
  out(text: string): void;
  /** Standard error. */
  err(text: string): void;
}

/** The kind of a flag's value; `strings` may be given several times. */
export type FlagKind = "string" | "strings" | "boolean";

/** Parsed flags: strings, repeated strings and booleans by name. */
export type Flags = Record<string, string | string[] | boolean | undefined>;

/** One command: its usage text, its flags, and what it does. */
export interface Command {
  /** The word after `aiguard`. */
  readonly name: string;
  /** One line for `aiguard --help`. */
  readonly summary: string;
  /** Its `--help` text. */
  readonly usage: string;
  /** Its flags (`--help` is added to every command). */
  readonly flags: Record<string, FlagKind>;
  /** Runs it; resolves to the exit code. */
  run(
    args: { flags: Flags; positional: string[]; io: CliIo; signal?: AbortSignal },
  ): Promise<number>;
}

/** A wrong command line: exit 2 with a one-line hint. */
export class UsageError extends Error {
  /** The command whose `--help` the hint names. */
  readonly command: string;
  constructor(message: string, command: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/** Parses `--flag value`, `--flag=value` and boolean flags; rejects anything unknown. */
export function parseFlags(
  command: string,
  args: string[],
  spec: Record<string, FlagKind>,
): { flags: Flags; positional: string[] } {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {};
  for (const [name, kind] of Object.entries<FlagKind>({ ...spec, help: "boolean" })) {
    options[name] = kind === "strings" ? { type: "string", multiple: true } : { type: kind };
  }
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { flags: values as Flags, positional: positionals };
  } catch (error) {
    const message = String((error as Error).message ?? error);
    const name = /'(--?[\w-]+)/.exec(message)?.[1] ?? "";
    const code = (error as { code?: string }).code;
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || /unknown option/i.test(message)) {
      throw new UsageError(`unknown flag ${name}`, command);
    }
    if (spec[name.replace(/^-+/, "")] === "boolean" || name === "--help") {
      throw new UsageError(`${name} takes no value`, command);
    }
    throw new UsageError(`${name} needs a value`, command);
  }
}

/**
 * A command that cannot go on (a bad config file, a report it cannot read): exit 2 with one line
 * naming the command, and no usage hint.
 */
export class CommandFailure extends Error {
  /** The command that failed. */
  readonly command: string;
  constructor(message: string, command: string) {
    super(message);
    this.name = "CommandFailure";
    this.command = command;
  }
}

/** What every command reads from the same sources as the guard. */
export interface CliSettings {
  reportPath: string;
  backups: number;
  socketPath: string;
  /** `AIGUARD_SIGNING_KEY`'s value (PEM text or a path): never to be printed. */
  signingKey: string | null;
}

/**
 * The settings a command works with, from the same sources and in the same order as the guard's:
 * flags (`--file`, `--socket`) > `AIGUARD_*` > `aiguard.jsonc` > defaults ({@link OPTIONS}).
 */
export function cliSettings(flags: Flags, command: string): CliSettings {
  const fromFlags: GuardOptions = {};
  if (typeof flags.file === "string") fromFlags.reportPath = flags.file;
  if (typeof flags.socket === "string") fromFlags.socketPath = flags.socket;
  let resolved;
  try {
    resolved = resolveOptions(
      validateOptions(fromFlags, "the command line"),
      optionsFromEnv(),
      optionsFromConfigFile(),
    );
  } catch (error) {
    throw new CommandFailure((error as Error).message, command);
  }
  return {
    reportPath: resolved.reportPath,
    backups: resolved.backups,
    socketPath: resolved.socketPath,
    signingKey: resolved.signingKey,
  };
}

/** The report path: `--file` > `AIGUARD_REPORT_PATH` > `reportPath` in aiguard.jsonc > default. */
export function reportPath(flags: Flags, command = "aiguard"): string {
  return cliSettings(flags, command).reportPath;
}

/** Parses `90s`, `30m`, `24h`, `7d` into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  if (!m) {
    throw new TypeError(`"${text}" is not a duration: use a number and s, m, h or d (e.g. 24h).`);
  }
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}

/** The daemon socket: `--socket` > `AIGUARD_SOCKET` > `socketPath` in aiguard.jsonc > default. */
export function socketPath(flags: Flags, command = "daemon"): string {
  return cliSettings(flags, command).socketPath;
}

/** `--since` in milliseconds, or `undefined`; a bad duration is a usage error. */
export function since(flags: Flags, command: string): number | undefined {
  if (flags.since === undefined) return undefined;
  try {
    return parseDuration(flags.since as string);
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}
