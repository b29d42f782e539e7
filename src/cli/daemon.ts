/**
 * The collector daemon: a Unix socket server (0600) speaking newline-delimited JSON records, the
 * only writer of its report file (same rotation as in-process writers). Malformed, oversized
 * (> 64 KiB) or non-UTF-8 lines are counted and dropped; nothing a client sends can stop it.
 *
 * @module
 */
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import process from "node:process";
import { decodeLine } from "../report/record.ts";
import { RecordQueue } from "../report/queue.ts";
import { createNodeFsStorage } from "../storage/node_fs.ts";
import { envVar } from "../runtime.ts";
import { processId, runtimeKey } from "../runtime.ts";

/** Longest accepted line, in bytes (without the newline). */
export const MAX_LINE_BYTES = 64 * 1024;

/** Counters of a daemon run, written to its stats file. */
export interface DaemonStats {
  pid: number | null;
  started: string;
  connections: number;
  received: number;
  written: number;
  malformed: number;
  oversized: number;
  invalid_utf8: number;
  truncated: number;
}

/** Where the daemon keeps its files. */
export interface DaemonPaths {
  socketPath: string;
  reportPath: string;
  pidPath: string;
  statsPath: string;
}

/** Options of {@link runDaemon}. */
export interface DaemonOptions extends DaemonPaths {
  maxBytes?: number;
  backups?: number;
}

/** The pid and stats files sit beside the socket. */
export function daemonPaths(socketPath: string, reportPath: string): DaemonPaths {
  const dir = socketPath.slice(0, socketPath.lastIndexOf("/")) || ".";
  return {
    socketPath,
    reportPath,
    pidPath: `${dir}/guard.pid`,
    statsPath: `${dir}/guard.stats.json`,
  };
}

/** Whether something accepts connections on the socket. */
export function socketAlive(path: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    const done = (alive: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(alive);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** A running daemon. */
export interface Daemon {
  stats: DaemonStats;
  /** Stops accepting, flushes everything received, removes socket and pid file. */
  close(): Promise<void>;
}

/** Starts the daemon in this process; resolves once it listens. */
export async function runDaemon(options: DaemonOptions): Promise<Daemon> {
  const dir = options.socketPath.slice(0, options.socketPath.lastIndexOf("/")) || ".";
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (await socketAlive(options.socketPath)) {
    throw new Error(`An aiguard daemon already listens on ${options.socketPath}.`);
  }
  await rm(options.socketPath, { force: true }); // a stale socket from a crashed daemon
  const stats: DaemonStats = {
    pid: processId(),
    started: new Date().toISOString(),
    connections: 0,
    received: 0,
    written: 0,
    malformed: 0,
    oversized: 0,
    invalid_utf8: 0,
    truncated: 0,
  };
  const queue = new RecordQueue(
    createNodeFsStorage({
      path: options.reportPath,
      maxBytes: options.maxBytes ?? 10 * 1024 * 1024,
      backups: options.backups ?? 3,
      ...(envVar("AIGUARD_SIGNING_KEY") ? { signingKey: envVar("AIGUARD_SIGNING_KEY")! } : {}),
    }),
    {
      capacity: 100_000,
      proc: { runtime: runtimeKey(), service: "aiguard-daemon", pid: processId() },
      onDrop: () => {},
      onFailure: (error) => console.error("aiguard daemon: cannot write the report:", error),
    },
  );

  const acceptLine = (bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      stats.invalid_utf8++;
      return;
    }
    const record = decodeLine(text);
    if (!record) {
      stats.malformed++;
      return;
    }
    stats.received++;
    queue.push(record);
  };

  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    stats.connections++;
    sockets.add(socket);
    let parts: Uint8Array[] = [];
    let length = 0;
    let discarding = false; // inside a line that already passed the limit
    socket.on("data", (chunk: Uint8Array) => {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        const end = nl === -1 ? chunk.length : nl;
        if (!discarding) {
          if (length + (end - start) > MAX_LINE_BYTES) {
            stats.oversized++;
            discarding = true;
            parts = [];
            length = 0;
          } else if (end > start) {
            parts.push(chunk.subarray(start, end));
            length += end - start;
          }
        }
        if (nl === -1) break;
        if (!discarding) acceptLine(parts.length === 1 ? parts[0]! : concat(parts, length));
        parts = [];
        length = 0;
        discarding = false;
        start = nl + 1;
      }
    });
    const finish = () => {
      if (length > 0 && !discarding) stats.truncated++; // half a line, then the client left
      parts = [];
      length = 0;
      sockets.delete(socket);
    };
    socket.on("end", finish);
    socket.on("close", finish);
    socket.on("error", () => {}); // a client's broken pipe is the client's business
  });
  server.on("error", (error) => console.error("aiguard daemon: socket error:", error));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.socketPath, () => resolve());
  });
  await chmod(options.socketPath, 0o600);
  await writeFile(options.pidPath, `${stats.pid ?? ""}\n`, { mode: 0o600 });

  const writeStats = async () => {
    stats.written = stats.received - queue.size;
    await writeFile(options.statsPath, JSON.stringify(stats) + "\n", { mode: 0o600 })
      .catch(() => {});
  };
  const timer = setInterval(() => void writeStats(), 1000);
  (timer as { unref?: () => void }).unref?.();

  let closing: Promise<void> | null = null;
  return {
    stats,
    close: () =>
      closing ??= (async () => {
        clearInterval(timer);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.end();
        await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
        for (const socket of sockets) socket.destroy();
        await queue.flush();
        await writeStats();
        await rm(options.socketPath, { force: true });
        const pid = await readFile(options.pidPath, "utf8").catch(() => "");
        if (pid.trim() === String(stats.pid ?? "")) await rm(options.pidPath, { force: true });
      })(),
  };
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Runs the daemon in the foreground until SIGTERM or SIGINT, then flushes and exits 0. */
export async function runDaemonForeground(options: DaemonOptions): Promise<void> {
  const daemon = await runDaemon(options);
  console.error(
    `aiguard daemon: listening on ${options.socketPath}, writing ${options.reportPath}`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  await daemon.close();
  console.error(
    `aiguard daemon: stopped; ${daemon.stats.received} records received, ` +
      `${
        daemon.stats.malformed + daemon.stats.oversized + daemon.stats.invalid_utf8 +
        daemon.stats.truncated
      } dropped`,
  );
}
