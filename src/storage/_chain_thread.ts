/**
 * The chain's writer thread. Hashing every line (SHA-256 over the line, serially: each line names
 * the hash of the one before) costs about as much as encoding it, so under a burst the file
 * storage hands large batches to a worker thread that runs the same storage code — lock,
 * chain, seal, rotation, write — while this thread encodes the next batch. Small batches stay on
 * this thread: a quiet process never starts the thread, and an idle one ends it.
 *
 * The worker writes the same file under the same lock as any other writer, so the chain stays one
 * chain whichever thread (or process) writes next. When the thread cannot start, the storage
 * chains on this thread; when it dies with a batch in hand, that batch is written here.
 *
 * @module
 */
import { builtinModule } from "../runtime.ts";

/** What the worker is started with. */
export interface ChainWorkerData {
  /** `node-fs` or `bun-file`: which adapter the worker builds. */
  kind: string;
  /** The storage's options, minus anything that is not plain data. */
  options: Record<string, unknown>;
}

/** A batch the worker wrote, or why it could not. */
export interface ChainWorkerReply {
  id?: number;
  ready?: true;
  error?: { message: string; name: string; code?: string };
}

interface WorkerLike {
  postMessage(message: unknown): void;
  on(event: "message", listener: (message: ChainWorkerReply) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  on(event: "exit", listener: (code: number) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}

interface WorkerThreads {
  Worker: new (url: URL, options: { workerData: ChainWorkerData }) => WorkerLike;
}

interface Pending {
  lines: string;
  resolve(): void;
  reject(error: Error): void;
}

/** An idle thread ends after this long without a batch (a later burst starts one again). */
const IDLE_MS = 10_000;

/** The worker module next to this one (`.ts` from source, `.js` from the npm build). */
export function chainWorkerUrl(): URL {
  const ext = /\.[cm]?[jt]s$/.exec(new URL(import.meta.url).pathname)?.[0] ?? ".js";
  return new URL(`./_chain_worker${ext}`, import.meta.url);
}

/** The writer thread of one file storage. */
export class ChainThread {
  readonly #data: ChainWorkerData;
  readonly #url: URL;
  /** Writes a batch on this thread (when the worker dies holding it). */
  readonly #here: (lines: string) => Promise<void>;
  #worker: WorkerLike | null = null;
  #ready = false;
  /** No thread can be had here (no node:worker_threads, or the module would not load). */
  #unavailable = false;
  #pending = new Map<number, Pending>();
  #inFlight = new Set<Promise<void>>();
  #next = 1;
  #idle: ReturnType<typeof setTimeout> | null = null;

  constructor(
    data: ChainWorkerData,
    here: (lines: string) => Promise<void>,
    url: URL = chainWorkerUrl(),
  ) {
    this.#data = data;
    this.#here = here;
    this.#url = url;
  }

  /** Whether batches go to the thread now. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Whether the thread could not be had (batches stay on this thread for good). */
  get unavailable(): boolean {
    return this.#unavailable;
  }

  /**
   * Hands `lines` to the thread and resolves once they are written; `null` when the thread is not
   * ready (it is then started, and the caller writes this batch itself).
   */
  append(lines: string): Promise<void> | null {
    if (this.#unavailable) return null;
    const worker = this.#worker;
    if (worker === null) {
      this.#start();
      return null;
    }
    if (!this.#ready) return null;
    if (this.#idle !== null) {
      clearTimeout(this.#idle);
      this.#idle = null;
    }
    const id = this.#next++;
    if (this.#pending.size === 0) worker.ref(); // a batch in hand keeps the process alive
    const written = new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { lines, resolve, reject });
      worker.postMessage({ id, lines });
    });
    this.#inFlight.add(written);
    const settled = () => void this.#inFlight.delete(written);
    written.then(settled, settled);
    return written;
  }

  /** Ends the thread once the batches it holds are written; later batches stay on this thread. */
  async close(): Promise<void> {
    this.#unavailable = true;
    await Promise.allSettled([...this.#inFlight]);
    await this.#stop();
  }

  #start(): void {
    const threads = builtinModule<WorkerThreads>("node:worker_threads");
    let worker: WorkerLike;
    try {
      if (!threads) throw new Error("no node:worker_threads");
      worker = new threads.Worker(this.#url, { workerData: this.#data });
    } catch {
      this.#unavailable = true;
      return;
    }
    this.#worker = worker;
    worker.on("message", (reply) => {
      if (reply.ready) {
        this.#ready = this.#worker === worker;
        return;
      }
      const pending = this.#pending.get(reply.id!);
      if (!pending) return;
      this.#pending.delete(reply.id!);
      if (reply.error) pending.reject(rebuildError(reply.error));
      else pending.resolve();
      if (this.#pending.size === 0 && this.#worker === worker) this.#rest(worker);
    });
    const lost = () => {
      if (this.#worker !== worker) return; // ended on purpose
      // A thread that never got ready will not do better next time; one that died is not
      // trusted again either. Batches it held are written here, in order.
      this.#unavailable = true;
      this.#worker = null;
      this.#ready = false;
      const held = [...this.#pending.values()];
      this.#pending.clear();
      let chain = Promise.resolve();
      for (const p of held) {
        chain = chain.then(() => this.#here(p.lines)).then(p.resolve, p.reject);
      }
    };
    worker.on("error", lost);
    worker.on("exit", lost);
    // Starting, or idle: never what keeps the process alive. (After the listeners: adding a
    // "message" listener refs the worker's port again.)
    worker.unref();
  }

  #rest(worker: WorkerLike): void {
    worker.unref();
    this.#idle = setTimeout(() => {
      this.#idle = null;
      if (this.#pending.size === 0) void this.#stop();
    }, IDLE_MS);
    (this.#idle as { unref?: () => void }).unref?.();
  }

  async #stop(): Promise<void> {
    if (this.#idle !== null) {
      clearTimeout(this.#idle);
      this.#idle = null;
    }
    const worker = this.#worker;
    this.#worker = null;
    this.#ready = false;
    if (worker) await worker.terminate();
  }
}

function rebuildError(shape: { message: string; name: string; code?: string }): Error {
  const error = new Error(shape.message) as Error & { code?: string };
  error.name = shape.name;
  if (shape.code !== undefined) error.code = shape.code;
  return error;
}
