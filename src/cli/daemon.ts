/**
 * The collector daemon: a Unix socket server (0600, in a 0700 directory only its user can write)
 * speaking newline-delimited JSON records, the only writer of its report file (same rotation and
 * chain as in-process writers). It writes only what it can vouch for: each record is rebuilt from
 * the record format's own fields (`RECORD_FIELDS` in `record.ts`); anything else a client sent (a prompt,
 * headers, its own `seq`/`prev`) never reaches the report. Malformed, wrongly typed, oversized
 * (> 64 KiB) or non-UTF-8 lines are counted and dropped; nothing a client sends can stop it.
 *
 * Acknowledgements: a line `{"event":"flush","id":n}` is answered `{"ack":n}` once every record
 * sent before it on that connection is written. A client keeps what is not acknowledged and
 * writes it elsewhere if the daemon goes away, so the daemon takes a connection's records into
 * its write queue only with the flush line that follows them (or when the client ends the
 * connection): when it shuts down, what it has not taken is left to the clients, not written
 * twice.
 *
 * @module
 */
import { constants as fsConstants } from "node:fs";
import { chmod, lstat, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import process from "node:process";
import { encodeJson, vouchRecord } from "../report/record.ts";
import { createNodeFsStorage } from "../storage/node_fs.ts";
import { directoryProblem } from "../private_dir.ts";
import { envVar, processId, processUid } from "../runtime.ts";

/** Longest accepted line, in bytes (without the newline). */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Records of one connection taken without a flush line once this many wait, or once they waited
 * this long: a client of an older version sends no flush lines. A client of this version sends
 * its flush line in the same write as the records.
 */
const TAKE_UNMARKED = 8192;
const TAKE_UNMARKED_MS = 1000;
/** Records waiting to be written beyond which the daemon stops reading its sockets for a while. */
const HIGH_WATER = 65_536;
/** Records per append: one lock, one write (and one seal) for many lines. */
const BATCH = 8192;

/** Counters of a daemon run, written to its stats file. */
export interface DaemonStats {
  pid: number | null;
  started: string;
  connections: number;
  /** Records accepted (after their fields were checked). */
  received: number;
  /** Records written to the report. */
  written: number;
  /** Lines that are not JSON, not a record, or a record with a missing or wrongly typed field. */
  malformed: number;
  oversized: number;
  invalid_utf8: number;
  truncated: number;
  /** Records written without fields the record format does not have (a prompt, headers, …). */
  stripped: number;
  /** Records whose write failed (their clients were disconnected to write them elsewhere). */
  write_failed: number;
}

/** Where the daemon keeps its files. */
export interface DaemonPaths {
  /** The directory of the socket, pid and stats files. */
  dir: string;
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

/**
 * The pid and stats files sit beside the socket.
 *
 * @example
 * ```ts
 * daemonPaths("/home/me/.aiguard/guard.sock", "/home/me/.aiguard/guard_log.jsonl").pidPath;
 * // "/home/me/.aiguard/guard.pid"
 * ```
 */
export function daemonPaths(socketPath: string, reportPath: string): DaemonPaths {
  const dir = socketPath.slice(0, socketPath.lastIndexOf("/")) || ".";
  return {
    dir,
    socketPath,
    reportPath,
    pidPath: `${dir}/guard.pid`,
    statsPath: `${dir}/guard.stats.json`,
  };
}

/**
 * Whether something accepts connections on the socket.
 *
 * @example
 * ```ts
 * if (await socketAlive("/home/me/.aiguard/guard.sock")) console.log("the daemon runs");
 * ```
 */
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

/** The daemon's directory cannot be trusted: others could replace its socket, pid or report. */
export class UnsafeDirectoryError extends Error {
  override name = "UnsafeDirectoryError";
}

/**
 * Creates the daemon's directory (0700) or checks the one there: a directory that another user
 * owns, or that group or others can write, is refused with what to do about it.
 *
 * @example
 * ```ts
 * await prepareDaemonDirectory("/home/me/.aiguard"); // throws UnsafeDirectoryError at mode 0777
 * ```
 */
export async function prepareDaemonDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await stat(dir);
  if (!info.isDirectory()) {
    throw new UnsafeDirectoryError(`The daemon's directory ${dir} is not a directory.`);
  }
  const problem = directoryProblem(info, processUid());
  if (problem === "foreign") {
    throw new UnsafeDirectoryError(
      `The daemon's directory ${dir} belongs to another user (uid ${info.uid}): refused. ` +
        `Use a directory of your own (--socket).`,
    );
  }
  if (problem === "shared") {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    throw new UnsafeDirectoryError(
      `The daemon's directory ${dir} can be written by others (mode ${mode}): refused. ` +
        `Run chmod 700 ${dir}, or use another directory (--socket).`,
    );
  }
}

/**
 * Replaces a file with new content (0600) without following a symlink at its path: the content
 * goes to a new file created exclusively (`O_EXCL` never follows a link), which is then renamed
 * over the path (a rename replaces a link, never its target).
 */
async function replaceFile(path: string, text: string): Promise<void> {
  const temp = `${path}.${processId() ?? 0}.${Math.random().toString(36).slice(2)}.tmp`;
  const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL |
    (fsConstants.O_NOFOLLOW ?? 0);
  const handle = await open(temp, flags, 0o600);
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
  await rename(temp, path).catch(async (error) => {
    await rm(temp, { force: true });
    throw error;
  });
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** A running daemon. */
export interface Daemon {
  stats: DaemonStats;
  /** Stops accepting, writes and acknowledges what it took, removes socket and pid file. */
  close(): Promise<void>;
}

/** One client connection: the records it sent since its last flush line. */
interface Connection {
  socket: Socket;
  untaken: string[];
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * Starts the daemon in this process; resolves once it listens.
 *
 * @example
 * ```ts
 * const daemon = await runDaemon(daemonPaths("/tmp/ag/guard.sock", "/tmp/ag/guard_log.jsonl"));
 * await daemon.close();
 * ```
 */
export async function runDaemon(options: DaemonOptions): Promise<Daemon> {
  await prepareDaemonDirectory(options.dir);
  if (await socketAlive(options.socketPath)) {
    throw new Error(`An aiguard daemon already listens on ${options.socketPath}.`);
  }
  // A stale socket from a crashed daemon; anything else there is not ours to remove.
  const there = await lstat(options.socketPath).catch(() => null);
  if (there && !there.isSocket()) {
    throw new Error(`${options.socketPath} exists and is not a socket: refused.`);
  }
  await rm(options.socketPath, { force: true });
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
    stripped: 0,
    write_failed: 0,
  };
  const storage = createNodeFsStorage({
    path: options.reportPath,
    maxBytes: options.maxBytes ?? 10 * 1024 * 1024,
    backups: options.backups ?? 3,
    ...(envVar("AIGUARD_SIGNING_KEY") ? { signingKey: envVar("AIGUARD_SIGNING_KEY")! } : {}),
  });

  // Records taken, in the order they are written; `taken` and `written` count them, and a flush
  // line waits for `written` to reach what was taken when it arrived.
  let queued: string[] = [];
  let taken = 0;
  const acks: Array<{ upto: number; socket: Socket; id: number }> = [];
  let writing: Promise<void> | null = null;
  let closing = false;
  const connections = new Set<Connection>();
  let paused = false;

  const setPaused = (pause: boolean) => {
    if (pause === paused) return;
    paused = pause;
    for (const c of connections) pause ? c.socket.pause() : c.socket.resume();
  };

  const acknowledge = () => {
    while (acks.length > 0 && acks[0]!.upto <= stats.written) {
      const { socket, id } = acks.shift()!;
      if (!socket.destroyed) socket.write(`{"ack":${id}}\n`);
    }
  };

  const writeQueued = async (): Promise<void> => {
    try {
      while (queued.length > 0) {
        const batch = queued.length <= BATCH ? queued : queued.slice(0, BATCH);
        queued = queued.length <= BATCH ? [] : queued.slice(BATCH);
        try {
          await storage.appendLines!(batch);
          stats.written += batch.length;
          acknowledge();
        } catch (error) {
          // Nothing unwritten may be acknowledged: every client is let go with what it has not
          // had acknowledged (it writes that to its own file), and what waits here is dropped
          // so that it is not written twice.
          console.error("aiguard daemon: cannot write the report:", error);
          stats.write_failed += batch.length + queued.length;
          taken = stats.written;
          queued = [];
          acks.length = 0;
          for (const c of connections) {
            c.untaken = []; // the client has them too: taken at its connection's end, twice
            c.socket.destroy();
          }
        }
        if (queued.length < HIGH_WATER / 4) setPaused(false);
      }
    } finally {
      writing = null;
    }
  };

  const take = (c: Connection) => {
    if (c.timer !== null) {
      clearTimeout(c.timer);
      c.timer = null;
    }
    if (c.untaken.length === 0) return;
    for (const line of c.untaken) queued.push(line);
    taken += c.untaken.length;
    c.untaken = [];
    // After the current data chunk is parsed, so that one append carries all of it.
    writing ??= Promise.resolve().then(writeQueued);
    if (queued.length >= HIGH_WATER) setPaused(true);
  };

  const acceptLine = (c: Connection, bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(bytes));
    } catch (error) {
      if (error instanceof TypeError) stats.invalid_utf8++;
      else stats.malformed++;
      return;
    }
    const flush = value as { event?: unknown; id?: unknown } | null;
    if (flush?.event === "flush" && Object.keys(flush).length === 2) {
      if (!Number.isSafeInteger(flush.id) || (flush.id as number) < 0) {
        stats.malformed++;
        return;
      }
      take(c);
      acks.push({ upto: taken, socket: c.socket, id: flush.id as number });
      acknowledge(); // nothing was sent since the last one: answered at once
      return;
    }
    const record = vouchRecord(value);
    if (!record) {
      stats.malformed++;
      return;
    }
    if (hasOtherFields(value as Record<string, unknown>, record)) stats.stripped++;
    stats.received++;
    c.untaken.push(encodeJson(record));
    if (c.untaken.length >= TAKE_UNMARKED) take(c);
    else c.timer ??= setTimeout(() => closing || take(c), TAKE_UNMARKED_MS);
  };

  const server: Server = createServer((socket) => {
    stats.connections++;
    const c: Connection = { socket, untaken: [], timer: null };
    connections.add(c);
    if (paused) socket.pause();
    let parts: Uint8Array[] = [];
    let length = 0;
    let discarding = false; // inside a line that already passed the limit
    socket.on("data", (chunk: Uint8Array) => {
      if (closing) return; // left to the client: it has no acknowledgement for it
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
        if (!discarding) acceptLine(c, parts.length === 1 ? parts[0]! : concat(parts, length));
        parts = [];
        length = 0;
        discarding = false;
        start = nl + 1;
      }
    });
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      if (length > 0 && !discarding) stats.truncated++; // half a line, then the client left
      parts = [];
      length = 0;
      // A client that goes away without a flush line cannot write its records elsewhere (it is
      // gone, or it sent no flush lines at all): they are written. At shutdown they are the
      // client's, which sees the connection end before any acknowledgement.
      if (!closing) take(c);
      else if (c.timer !== null) clearTimeout(c.timer);
      connections.delete(c);
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
  await replaceFile(options.pidPath, `${stats.pid ?? ""}\n`);

  const writeStats = () =>
    replaceFile(options.statsPath, JSON.stringify(stats) + "\n").catch(() => {});
  const timer = setInterval(() => void writeStats(), 1000);
  (timer as { unref?: () => void }).unref?.();

  let closed: Promise<void> | null = null;
  return {
    stats,
    close: () =>
      closed ??= (async () => {
        clearInterval(timer);
        closing = true;
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        // What was taken is written and acknowledged before the clients are let go.
        while (writing) await writing;
        for (const c of connections) c.socket.end();
        await Promise.race([serverClosed, new Promise((r) => setTimeout(r, 2000))]);
        for (const c of connections) c.socket.destroy();
        await writeStats();
        await rm(options.socketPath, { force: true });
        const pid = await readFile(options.pidPath, "utf8").catch(() => "");
        if (pid.trim() === String(stats.pid ?? "")) await rm(options.pidPath, { force: true });
      })(),
  };
}

/** Whether a client sent fields that the record written does not carry. */
function hasOtherFields(sent: Record<string, unknown>, kept: object): boolean {
  if (Object.keys(sent).length !== Object.keys(kept).length) return true;
  const attestation = (kept as { attestation?: object | null }).attestation;
  return !!attestation &&
    Object.keys(sent.attestation as object).length !== Object.keys(attestation).length;
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
