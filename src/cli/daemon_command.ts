/**
 * `aiguard daemon start|stop|status|run`: the local collector's lifecycle (the collector itself is
 * `daemon.ts`).
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { spawn } from "node:child_process";
import process from "node:process";
import { type CliIo, type Command, reportPath, socketPath, UsageError } from "./command.ts";
import {
  daemonPaths,
  type DaemonStats,
  prepareDaemonDirectory,
  runDaemonForeground,
  socketAlive,
  UnsafeDirectoryError,
} from "./daemon.ts";
import { readReports } from "./reports.ts";

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

type Paths = ReturnType<typeof daemonPaths>;

async function start(paths: Paths, io: CliIo): Promise<number> {
  if (await socketAlive(paths.socketPath)) {
    io.out(`aiguard daemon: already running on ${paths.socketPath}\n`);
    return 0;
  }
  // Checked here too: the detached daemon's own refusal would go nowhere the user sees.
  await prepareDaemonDirectory(paths.dir);
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

async function stop(paths: Paths, io: CliIo): Promise<number> {
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

async function status(paths: Paths, io: CliIo): Promise<number> {
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
        `${stats.invalid_utf8} invalid UTF-8, ${stats.truncated} truncated; ` +
        `${stats.stripped ?? 0} stripped of unknown fields, ${stats.write_failed ?? 0} not written`,
    );
  }
  io.out(lines.join("\n") + "\n");
  return running ? 0 : 1;
}

/** `aiguard daemon`. */
export const daemonCommand: Command = {
  name: "daemon",
  summary: "start | stop | status | run the local collector",
  usage: `Usage: aiguard daemon start|stop|status|run [--socket P] [--file P]

run     the collector in the foreground (SIGTERM/SIGINT flush and stop it)
start   the collector detached; stop ends it; status exits 0 if it runs, 1 if not`,
  flags: { socket: "string", file: "string" },
  async run({ flags, positional, io }) {
    const paths = daemonPaths(socketPath(flags), reportPath(flags));
    switch (positional[0]) {
      case "run":
      case "start":
        try {
          if (positional[0] === "start") return await start(paths, io);
          await runDaemonForeground(paths);
          return 0;
        } catch (error) {
          if (!(error instanceof UnsafeDirectoryError)) throw error;
          io.err(`aiguard daemon: ${error.message}\n`);
          return 2;
        }
      case "stop":
        return await stop(paths, io);
      case "status":
        return await status(paths, io);
      default:
        throw new UsageError(`daemon needs one of start, stop, status, run`, "daemon");
    }
  },
};
