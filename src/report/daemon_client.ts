/**
 * The daemon step: newline-delimited JSON over the daemon's Unix socket, through `node:net`.
 * Connects lazily with a short timeout; while it is not connected, records fall through to the next
 * step.
 *
 * Nothing acknowledged is lost, nothing unacknowledged is dropped: records are sent in batches,
 * each followed by `{"event":"flush","id":n}`, and kept until the daemon answers `{"ack":n}` (it
 * has written them). When the connection dies, every batch not acknowledged is handed to the
 * fallback (the file queue); acknowledged ones never are. The one window left: the daemon killed
 * after writing a batch and before its acknowledgement left, whose records the fallback writes a
 * second time.
 *
 * @module
 */
import { type AnyRecord, encodeLine } from "./record.ts";
import { directoryProblem } from "../private_dir.ts";
import { builtinModule, processUid } from "../runtime.ts";

interface NetSocket {
  /** Node's and Bun's socket handle: its `fd` is the descriptor (not in Deno, where it is a resource id). */
  readonly _handle?: { fd?: unknown } | null;
  write(data: string, cb?: (error?: Error | null) => void): boolean;
  end(cb?: () => void): void;
  destroy(): void;
  once(event: string, fn: (...args: unknown[]) => void): void;
  on(event: string, fn: (...args: unknown[]) => void): void;
  ref?(): void;
  unref?(): void;
  setEncoding?(encoding: "utf8"): void;
}

interface NetModule {
  createConnection(options: { path: string }): NetSocket;
}

interface FsSync {
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: null): number;
}

interface StatSync {
  statSync(path: string): { uid: number; mode: number };
  lstatSync(path: string): { uid: number };
}

/**
 * Whether the socket is one only this user could have put there, as the daemon requires of its
 * own directory: the socket and its directory this user's, the directory not writable by group or
 * others. Another user's listener at a shared path (a world-writable directory, `./.aiguard`
 * without HOME) would otherwise be sent every record, acknowledge it and drop it. Where there are
 * no uids (Windows), there is nothing to compare.
 */
function trustedSocket(path: string): boolean {
  const fs = builtinModule<StatSync>("node:fs");
  const uid = processUid();
  if (!fs) return true;
  try {
    const slash = path.lastIndexOf("/");
    const dir = fs.statSync(slash === -1 ? "." : path.slice(0, slash) || "/");
    if (directoryProblem(dir, uid) !== null) return false;
    // Without a uid to compare (Windows; Deno without --allow-sys) the mode is all there is.
    return uid === undefined || fs.lstatSync(path).uid === uid;
  } catch {
    return false; // no socket there: nothing to connect to
  }
}

const CONNECT_TIMEOUT_MS = 500;
const RETRY_AFTER_MS = 5_000;
/**
 * A daemon that acknowledges nothing for this long while batches wait (stopped, or stuck on a
 * full disk) is given up on: its batches go to the fallback rather than wait for ever.
 */
const ACK_TIMEOUT_MS = 10_000;
/**
 * Longest an exit path waits for acknowledgements of what the daemon already has. A live daemon
 * answers within milliseconds; a stopped one costs this much once, at the end.
 */
const EXIT_ACK_WAIT_MS = 500;

/** Records sent together and acknowledged together. */
interface Batch {
  id: number;
  records: AnyRecord[];
}

/**
 * A client of the daemon socket.
 *
 * @example
 * ```ts
 * const client = new DaemonClient("/home/me/.aiguard/guard.sock", (records) => queue.push(...records));
 * if (!client.offer(record)) queue.push(record);
 * await client.flush(); // the daemon has written it, or the fallback has it
 * ```
 */
export class DaemonClient {
  readonly #path: string;
  readonly #fallback: (records: AnyRecord[]) => void;
  #socket: NetSocket | null = null;
  #state: "idle" | "connecting" | "up" | "down" = "idle";
  #downSince = 0;
  /** Records taken and not yet sent (while connecting, or until the current task ends). */
  #outgoing: AnyRecord[] = [];
  #sendScheduled = false;
  /** Sent, not yet acknowledged, oldest first. */
  #unacked: Batch[] = [];
  #nextId = 1;
  #lastProgress = 0;
  #watchdog: ReturnType<typeof setInterval> | null = null;
  /** Called whenever nothing is left waiting for an acknowledgement. */
  #settled: Array<() => void> = [];
  #received = "";

  constructor(path: string, fallback: (records: AnyRecord[]) => void) {
    this.#path = path;
    this.#fallback = fallback;
  }

  /** Takes a record if the daemon is (or may be) there; `false` sends it down the chain. */
  offer(record: AnyRecord): boolean {
    if (this.#state === "down") {
      if (Date.now() - this.#downSince < RETRY_AFTER_MS) return false;
      this.#state = "idle";
    }
    if (this.#state === "idle" && !this.#connect()) return false;
    this.#outgoing.push(record);
    if (this.#state === "up" && !this.#sendScheduled) {
      // One batch per task: a burst of calls shares one write and one acknowledgement.
      this.#sendScheduled = true;
      queueMicrotask(() => {
        this.#sendScheduled = false;
        this.#send();
      });
    }
    return true;
  }

  #send(): void {
    const socket = this.#socket;
    if (this.#state !== "up" || !socket || this.#outgoing.length === 0) return;
    const batch: Batch = { id: this.#nextId++, records: this.#outgoing };
    this.#outgoing = [];
    let lines = "";
    for (const r of batch.records) lines += encodeLine(r);
    lines += `{"event":"flush","id":${batch.id}}\n`;
    if (this.#unacked.length === 0) {
      this.#lastProgress = Date.now();
      // Waiting for an acknowledgement keeps the process alive (bounded by the watchdog), so a
      // normal end does not write a batch the daemon is about to acknowledge a second time.
      socket.ref?.();
    }
    this.#unacked.push(batch);
    this.#armWatchdog();
    // A failed write also fails the socket: its error handler hands every unacked batch back.
    socket.write(lines);
  }

  #onData(chunk: unknown): void {
    this.#received += typeof chunk === "string" ? chunk : new TextDecoder().decode(
      chunk as Uint8Array,
    );
    let nl: number;
    let acked = 0;
    while ((nl = this.#received.indexOf("\n")) !== -1) {
      const line = this.#received.slice(0, nl);
      this.#received = this.#received.slice(nl + 1);
      try {
        const id = (JSON.parse(line) as { ack?: unknown }).ack;
        if (typeof id === "number") acked = Math.max(acked, id);
      } catch {
        // not ours to understand; the daemon says nothing else today
      }
    }
    if (acked === 0) return;
    // Acknowledgements come in order: one for batch n covers every batch before it.
    let drop = 0;
    while (drop < this.#unacked.length && this.#unacked[drop]!.id <= acked) drop++;
    if (drop === 0) return;
    this.#unacked.splice(0, drop);
    this.#lastProgress = Date.now();
    if (this.#unacked.length === 0) this.#settle();
  }

  #settle(): void {
    this.#socket?.unref?.();
    if (this.#watchdog !== null) {
      clearInterval(this.#watchdog);
      this.#watchdog = null;
    }
    const settled = this.#settled;
    this.#settled = [];
    for (const resolve of settled) resolve();
  }

  #armWatchdog(): void {
    if (this.#watchdog !== null) return;
    this.#watchdog = setInterval(() => {
      if (this.#unacked.length > 0 && Date.now() - this.#lastProgress > ACK_TIMEOUT_MS) {
        this.#socket?.destroy();
        this.#markDown();
      }
    }, ACK_TIMEOUT_MS / 4);
    (this.#watchdog as { unref?: () => void }).unref?.();
  }

  /** Starts connecting; `false` when there is nothing to connect with. */
  #connect(): boolean {
    const net = builtinModule<NetModule>("node:net");
    if (!net || !trustedSocket(this.#path)) {
      this.#markDown();
      return false;
    }
    this.#state = "connecting";
    let socket: NetSocket;
    try {
      socket = net.createConnection({ path: this.#path });
    } catch {
      this.#markDown();
      return false;
    }
    // A connect that takes long only because the event loop was blocked (modules loading at
    // startup) is no failed connect: a timer that fires late is re-armed, a few times at most.
    let timer: ReturnType<typeof setTimeout>;
    let rearms = 0;
    const arm = () => {
      const armedAt = Date.now();
      timer = setTimeout(() => {
        if (this.#state !== "connecting" || this.#socket === socket) return;
        const lag = Date.now() - armedAt - CONNECT_TIMEOUT_MS;
        if (lag > 50 && rearms++ < 5) return arm();
        // Timers run before I/O callbacks in a loop turn: a connect that completed while the loop
        // was busy is delivered right after this. Decide one turn later.
        timer = setTimeout(() => {
          if (this.#state !== "connecting" || this.#socket === socket) return;
          socket.destroy();
          this.#markDown();
        }, 0);
      }, CONNECT_TIMEOUT_MS);
    };
    arm();
    socket.once("connect", () => {
      clearTimeout(timer);
      this.#socket = socket;
      this.#state = "up";
      socket.unref?.();
      this.#send();
    });
    socket.on("error", () => {
      clearTimeout(timer);
      if (this.#socket === socket || this.#state === "connecting") this.#markDown();
    });
    // The daemon ending its side (shutdown) acknowledges nothing more: hand back what waits.
    for (const event of ["end", "close"]) {
      socket.on(event, () => {
        if (this.#socket === socket) this.#markDown();
      });
    }
    socket.on("data", (chunk) => this.#onData(chunk));
    return true;
  }

  #markDown(): void {
    this.#state = "down";
    this.#downSince = Date.now();
    this.#socket = null;
    this.#received = "";
    const records = this.takeUnacknowledged();
    if (records.length) this.#fallback(records);
    this.#settle();
  }

  /**
   * Removes and returns every record the daemon has not acknowledged, oldest first: the exit
   * path writes them itself (an acknowledgement arriving later then changes nothing).
   */
  takeUnacknowledged(): AnyRecord[] {
    const records: AnyRecord[] = [];
    for (const batch of this.#unacked) for (const r of batch.records) records.push(r);
    for (const r of this.#outgoing) records.push(r);
    this.#unacked = [];
    this.#outgoing = [];
    return records;
  }

  /**
   * Exit paths: hands every record the daemon has not acknowledged to the fallback at once (the
   * output then writes the file queue synchronously, `appendLinesSync`). Acknowledged records are
   * not handed on; a batch the daemon wrote without its acknowledgement reaching us is the one
   * thing written twice.
   */
  flushSync(): void {
    this.#awaitAcknowledgementsSync();
    const records = this.takeUnacknowledged();
    if (records.length) this.#fallback(records);
  }

  /**
   * Reads the daemon's acknowledgements synchronously from the socket's descriptor for a bounded
   * while, so that a batch the daemon is writing right now is not written a second time by the
   * exit path (an app that calls `process.exit()` right after a burst). Where the runtime gives no
   * descriptor (Deno), nothing is waited for and such a batch may be written twice.
   */
  #awaitAcknowledgementsSync(): void {
    const socket = this.#socket;
    if (this.#state !== "up" || !socket || this.#unacked.length === 0) return;
    const fd = socket._handle?.fd;
    const fs = builtinModule<FsSync>("node:fs");
    if (typeof fd !== "number" || fd < 0 || !fs) return;
    const buffer = new Uint8Array(4096);
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + EXIT_ACK_WAIT_MS;
    while (this.#unacked.length > 0 && Date.now() < deadline) {
      let read: number;
      try {
        read = fs.readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== "EAGAIN" && code !== "EWOULDBLOCK") return;
        Atomics.wait(sleeper, 0, 0, 1); // nothing yet: the daemon is writing
        continue;
      }
      if (read === 0) return; // the daemon closed: what it did not acknowledge is ours to write
      this.#onData(buffer.slice(0, read));
    }
  }

  /**
   * Resolves when every record offered so far is acknowledged by the daemon, or was handed to the
   * fallback because the daemon went away.
   */
  async flush(): Promise<void> {
    while (this.#state === "connecting") await new Promise((r) => setTimeout(r, 5));
    this.#send();
    if (this.#unacked.length === 0) return;
    await new Promise<void>((resolve) => this.#settled.push(resolve));
  }

  /** Flushes and closes the connection. */
  async close(): Promise<void> {
    await this.flush();
    const socket = this.#socket;
    this.#socket = null;
    this.#state = "idle";
    if (socket) await new Promise<void>((resolve) => socket.end(() => resolve()));
  }
}
