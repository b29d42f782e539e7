/**
 * The daemon step: newline-delimited JSON over the daemon's Unix socket, through `node:net`.
 * Connects lazily with a short timeout; while it is not connected, records fall through to the next
 * step, and lines not yet handed to the socket when it fails are handed back, never lost.
 *
 * @module
 */
import { type AnyRecord, encodeLine } from "./record.ts";
import { builtinModule } from "../runtime.ts";

interface NetSocket {
  write(data: string, cb?: (error?: Error | null) => void): boolean;
  end(cb?: () => void): void;
  destroy(): void;
  once(event: string, fn: (...args: unknown[]) => void): void;
  on(event: string, fn: (...args: unknown[]) => void): void;
  unref?(): void;
  readonly connecting?: boolean;
}

interface NetModule {
  createConnection(options: { path: string }): NetSocket;
}

const CONNECT_TIMEOUT_MS = 500;
const RETRY_AFTER_MS = 5_000;

/** A client of the daemon socket. */
export class DaemonClient {
  readonly #path: string;
  readonly #fallback: (records: AnyRecord[]) => void;
  #socket: NetSocket | null = null;
  #state: "idle" | "connecting" | "up" | "down" = "idle";
  #downSince = 0;
  #pending: AnyRecord[] = [];
  #inFlight = new Set<Promise<void>>();

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
    if (this.#state === "idle") this.#connect();
    if (this.#state === "connecting") {
      this.#pending.push(record);
      return true;
    }
    if (this.#state === "up" && this.#socket) {
      this.#write(this.#socket, [record]);
      return true;
    }
    return false;
  }

  #write(socket: NetSocket, records: AnyRecord[]): void {
    let lines = "";
    for (const r of records) lines += encodeLine(r);
    const done = new Promise<void>((resolve) => {
      socket.write(lines, (error) => {
        if (error) this.#fallback(records);
        resolve();
      });
    });
    this.#inFlight.add(done);
    done.then(() => this.#inFlight.delete(done));
  }

  #connect(): void {
    const net = builtinModule<NetModule>("node:net");
    if (!net) {
      this.#markDown();
      return;
    }
    this.#state = "connecting";
    let socket: NetSocket;
    try {
      socket = net.createConnection({ path: this.#path });
    } catch {
      this.#markDown();
      return;
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
      const pending = this.#pending;
      this.#pending = [];
      if (pending.length) this.#write(socket, pending);
    });
    socket.on("error", () => {
      clearTimeout(timer);
      if (this.#socket === socket || this.#state === "connecting") this.#markDown();
    });
    // The daemon ending its side (shutdown) means later lines would go nowhere: fall back now.
    for (const event of ["end", "close"]) {
      socket.on(event, () => {
        if (this.#socket === socket) this.#markDown();
      });
    }
    // The daemon never answers; reading keeps nothing alive.
    socket.on("data", () => {});
  }

  #markDown(): void {
    this.#state = "down";
    this.#downSince = Date.now();
    this.#socket = null;
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length) this.#fallback(pending);
  }

  /** Resolves when every line handed to the socket was written (or handed back). */
  async flush(): Promise<void> {
    while (this.#state === "connecting") await new Promise((r) => setTimeout(r, 5));
    await Promise.all([...this.#inFlight]);
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
