/**
 * The `aiguard` command line: review reports, gate CI, run the daemon, follow and export records.
 *
 * @module
 */
import { open, readFile, stat } from "node:fs/promises";
import { spawn } from "node:child_process";
import process from "node:process";
import { defaultDir } from "../config.ts";
import { decodeLine } from "../report/record.ts";
import { FORMATS, render, type ReportFormat } from "./formats.ts";
import { groupBySite, parseDuration, readReports } from "./reports.ts";
import { daemonPaths, type DaemonStats, runDaemonForeground, socketAlive } from "./daemon.ts";
import { readDenoKvLines } from "../storage/deno_kv.ts";
import { envVar } from "../runtime.ts";

/** What a command writes and returns. */
export interface CliIo {
  /** Standard output. */
  out(text: string): void;
  /** Standard error. */
  err(text: string): void;
}

type FlagKind = "string" | "boolean";

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
): { flags: Record<string, string | boolean>; positional: string[] } {
  const flags: Record<string, string | boolean> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown flag --${name}`, command);
    if (kind === "boolean") {
      flags[name] = true;
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined || (inline === undefined && value.startsWith("--"))) {
      throw new UsageError(`--${name} needs a value`, command);
    }
    flags[name] = value;
  }
  return { flags, positional };
}

const HELP: Record<string, string> = {
  main: `aiguard — find AI calls that are not wrapped with attest()

Usage: aiguard <command> [flags]

Commands:
  report   unattested calls grouped by call site (table, json, markdown, sarif)
  check    the CI gate: exit 1 if any unattested call site is in the report
  daemon   start | stop | status | run the local collector
  tail     follow new records, one readable line each
  export   write the records kept in a Deno KV store as JSONL (--kv PATH)

Run aiguard <command> --help for its flags.`,
  report: `Usage: aiguard report [--file P] [--since 24h] [--format table|json|markdown|sarif]

Unattested AI calls grouped by call site: count, providers, models, first and last seen,
newest first. Reads the report file and its rotated backups.`,
  check: `Usage: aiguard check [--file P] [--since D] [--allow-missing]

Lists unattested call sites; exits 1 if there is any, 0 if there is none. Fails closed: a report
that is missing or unreadable exits 2 (a gate that passes when the guard never wrote anything
proves nothing); --allow-missing passes on a missing report. An empty report that exists passes.`,
  daemon: `Usage: aiguard daemon start|stop|status|run [--socket P] [--file P]

run     the collector in the foreground (SIGTERM/SIGINT flush and stop it)
start   the collector detached; stop ends it; status exits 0 if it runs, 1 if not`,
  tail: `Usage: aiguard tail [--file P]

Follows the report file (through rotation) and prints each new record on one line.`,
  export: `Usage: aiguard export --kv PATH

Writes the records kept in the Deno KV store at PATH to stdout as JSONL (Deno only).`,
};

function reportPath(flags: Record<string, string | boolean>): string {
  return (flags.file as string | undefined) ?? envVar("AIGUARD_REPORT_PATH") ??
    `${defaultDir()}/guard_log.jsonl`;
}

function socketPath(flags: Record<string, string | boolean>): string {
  return (flags.socket as string | undefined) ?? envVar("AIGUARD_SOCKET") ??
    `${defaultDir()}/guard.sock`;
}

function since(flags: Record<string, string | boolean>, command: string): number | undefined {
  if (flags.since === undefined) return undefined;
  try {
    return parseDuration(flags.since as string);
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}

async function report(args: string[], io: CliIo): Promise<number> {
  const { flags } = parseFlags("report", args, {
    file: "string",
    since: "string",
    format: "string",
    help: "boolean",
  });
  if (flags.help) return help("report", io);
  const format = (flags.format ?? "table") as ReportFormat;
  if (!FORMATS.includes(format)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(", ")}`, "report");
  }
  const { records, skipped } = await readReports(reportPath(flags));
  io.out(render(format, groupBySite(records, since(flags, "report")), skipped));
  return 0;
}

async function check(args: string[], io: CliIo): Promise<number> {
  const { flags } = parseFlags("check", args, {
    file: "string",
    since: "string",
    "allow-missing": "boolean",
    help: "boolean",
  });
  if (flags.help) return help("check", io);
  const sinceMs = since(flags, "check");
  const path = reportPath(flags);
  const { records, skipped, files, unreadable } = await readReports(path);
  if (unreadable.length > 0) {
    const [first] = unreadable;
    io.err(
      `aiguard check: cannot read ${first!.file} (${first!.reason}): the gate fails closed.\n`,
    );
    return 2;
  }
  if (files.length === 0 && !flags["allow-missing"]) {
    io.err(
      `aiguard check: no report at ${path}: did the guard run in report or block mode? ` +
        `(--allow-missing passes anyway)\n`,
    );
    return 2;
  }
  const groups = groupBySite(records, sinceMs);
  if (groups.length === 0) {
    io.out(
      `aiguard check: no unattested AI calls${
        skipped ? ` (${skipped} malformed lines skipped)` : ""
      }\n`,
    );
    return 0;
  }
  io.out(render("table", groups, skipped));
  io.out("aiguard check: failed — wrap these call sites with attest() once they are reviewed.\n");
  return 1;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

async function readPid(path: string): Promise<number | null> {
  const text = await readFile(path, "utf8").catch(() => "");
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** The command that runs this CLI again (for `daemon start`). */
function selfCommand(): [string, string[]] {
  const deno = (globalThis as { Deno?: { execPath(): string; mainModule: string } }).Deno;
  if (deno) return [deno.execPath(), ["run", "-A", deno.mainModule]];
  return [process.execPath, [...process.execArgv, process.argv[1]!]];
}

async function daemon(args: string[], io: CliIo): Promise<number> {
  const { flags, positional } = parseFlags("daemon", args, {
    socket: "string",
    file: "string",
    help: "boolean",
  });
  if (flags.help) return help("daemon", io);
  const action = positional[0];
  const paths = daemonPaths(socketPath(flags), reportPath(flags));
  switch (action) {
    case "run":
      await runDaemonForeground(paths);
      return 0;
    case "start": {
      if (await socketAlive(paths.socketPath)) {
        io.out(`aiguard daemon: already running on ${paths.socketPath}\n`);
        return 0;
      }
      const [cmd, base] = selfCommand();
      const child = spawn(
        cmd,
        [...base, "daemon", "run", "--socket", paths.socketPath, "--file", paths.reportPath],
        { detached: true, stdio: "ignore" },
      );
      child.unref();
      for (let i = 0; i < 100; i++) {
        if (await socketAlive(paths.socketPath, 100)) {
          io.out(`aiguard daemon: started (pid ${child.pid}) on ${paths.socketPath}\n`);
          return 0;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      io.err(`aiguard daemon: did not start within 5 s\n`);
      return 1;
    }
    case "stop": {
      const pid = await readPid(paths.pidPath);
      if (pid === null || !pidAlive(pid)) {
        io.out("aiguard daemon: not running\n");
        return 0;
      }
      process.kill(pid, "SIGTERM");
      for (let i = 0; i < 100 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
      io.out(`aiguard daemon: stopped (pid ${pid})\n`);
      return 0;
    }
    case "status":
      return status(paths, io);
    default:
      throw new UsageError(`daemon needs one of start, stop, status, run`, "daemon");
  }
}

async function status(paths: ReturnType<typeof daemonPaths>, io: CliIo): Promise<number> {
  const pid = await readPid(paths.pidPath);
  const running = pid !== null && pidAlive(pid) && await socketAlive(paths.socketPath);
  const { records, skipped } = await readReports(paths.reportPath);
  const hourAgo = Date.now() - 3_600_000;
  const lastHour = records.filter((r) => Date.parse(r.ts) >= hourAgo).length;
  const stats = JSON.parse(await readFile(paths.statsPath, "utf8").catch(() => "null")) as
    | DaemonStats
    | null;
  const lines = [
    `aiguard daemon: ${running ? `running (pid ${pid})` : "not running"}`,
    `socket: ${paths.socketPath}`,
    `log: ${paths.reportPath}`,
    `entries: ${records.length}${skipped ? ` (+${skipped} malformed)` : ""}`,
    `events in last hour: ${lastHour}`,
  ];
  if (stats) {
    lines.push(
      `received: ${stats.received}, connections: ${stats.connections}, dropped: ` +
        `${stats.malformed} malformed, ${stats.oversized} oversized, ` +
        `${stats.invalid_utf8} invalid UTF-8, ${stats.truncated} truncated`,
    );
  }
  io.out(lines.join("\n") + "\n");
  return running ? 0 : 1;
}

/** One readable line for a record. */
export function describeRecord(line: string): string | null {
  const r = decodeLine(line);
  if (!r) return null;
  if (r.event === "dropped") return `${r.ts}  dropped   ${r.count} records`;
  const who = r.attested
    ? `attested${r.attestation?.id ? ` (${r.attestation.id})` : ""}`
    : "UNATTESTED";
  return `${r.ts}  ${r.action.padEnd(8)}  ${who}  ${r.provider} ${r.operation ?? "-"} ${
    r.model ?? "-"
  }  ${r.call_site ?? r.target}`;
}

async function tail(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const { flags } = parseFlags("tail", args, {
    file: "string",
    help: "boolean",
    "poll-ms": "string",
  });
  if (flags.help) return help("tail", io);
  const path = reportPath(flags);
  const pollMs = Number(flags["poll-ms"] ?? 200);
  let offset = await stat(path).then((s) => s.size, () => 0);
  let partial = "";
  const stopped = new Promise<void>((resolve) => {
    signal?.addEventListener("abort", () => resolve());
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  let running = true;
  void stopped.then(() => (running = false));
  while (running) {
    const size = await stat(path).then((s) => s.size, () => 0);
    if (size < offset) {
      offset = 0; // rotated: the new file starts from the beginning
      partial = "";
    }
    if (size > offset) {
      const handle = await open(path, "r");
      try {
        const buffer = new Uint8Array(size - offset);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        offset += bytesRead;
        const text = partial + new TextDecoder().decode(buffer.subarray(0, bytesRead));
        const lines = text.split("\n");
        partial = lines.pop()!;
        for (const line of lines) {
          const shown = describeRecord(line);
          if (shown) io.out(shown + "\n");
        }
      } finally {
        await handle.close();
      }
    }
    await Promise.race([stopped, new Promise((r) => setTimeout(r, pollMs))]);
  }
  return 0;
}

async function exportKv(args: string[], io: CliIo): Promise<number> {
  const { flags } = parseFlags("export", args, { kv: "string", help: "boolean" });
  if (flags.help) return help("export", io);
  if (!flags.kv) throw new UsageError("export needs --kv PATH", "export");
  const deno = (globalThis as { Deno?: { openKv?: (p: string) => Promise<unknown> } }).Deno;
  if (typeof deno?.openKv !== "function") {
    io.err("aiguard export --kv needs Deno with --unstable-kv (deno run -A --unstable-kv ...)\n");
    return 1;
  }
  const kv = await deno.openKv(flags.kv as string) as Parameters<typeof readDenoKvLines>[0];
  try {
    for await (const line of readDenoKvLines(kv)) io.out(line + "\n");
  } finally {
    kv.close();
  }
  return 0;
}

function help(command: string, io: CliIo): number {
  io.out((HELP[command] ?? HELP.main!) + "\n");
  return 0;
}

/** Runs one command line; resolves to the exit code. */
export async function main(
  argv: string[],
  io: CliIo = {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
  },
  signal?: AbortSignal,
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "report":
        return await report(rest, io);
      case "check":
        return await check(rest, io);
      case "daemon":
        return await daemon(rest, io);
      case "tail":
        return await tail(rest, io, signal);
      case "export":
        return await exportKv(rest, io);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        return help("main", io);
      default:
        throw new UsageError(`unknown command ${command}`, "main");
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const hint = error.command === "main" ? "aiguard --help" : `aiguard ${error.command} --help`;
      io.err(`aiguard: ${error.message} (see ${hint})\n`);
      return 2;
    }
    throw error;
  }
}
