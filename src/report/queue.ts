/**
 * The bounded in-process queue (10,000 records by default), drained in the background into a
 * storage adapter. A full queue drops and counts; the count is written as a `dropped` record once
 * room returns. Nothing here ever throws into the guarded call.
 *
 * @module
 */
import type { StorageAdapter } from "../config.ts";
import { type AnyRecord, encodeJson, makeDroppedRecord, type ProcessFacts } from "./record.ts";
import { LineBatch, LineBuffer } from "./line_batch.ts";

/**
 * How long the first record of a burst waits for company before the queue writes. Every append
 * pays fixed costs (the lock, opening and checking the report, a write on the thread pool) that
 * calls a millisecond apart would otherwise share among a few records only (bench/sdk_overhead.ts).
 * flush() and the exit paths do not wait; a SIGKILL loses what waits, at most this window's.
 */
export const DRAIN_DELAY_MS = 100;
/** Below this many waiting records, the drain waits for more instead of writing at once. */
const EAGER_BATCH = 256;
/**
 * Records per append by default: large enough that a lock and a write are shared by thousands of
 * lines, small enough that the next batch is encoded while this one is written.
 */
const DEFAULT_BATCH = 4096;

/** Options of the queue. */
export interface QueueOptions {
  /** Most records held. */
  capacity?: number;
  /** Most records written per storage append (default 4096, at most `capacity`). */
  batch?: number;
  /** Facts fixed for the process. */
  proc: ProcessFacts;
  onDrop(count: number): void;
  onFailure(error: unknown): void;
  /**
   * Where records go from the first lasting error on (see {@link isLastingError}: Deno without
   * --allow-write, a report path that is no file, a full disk).
   */
  fallback?: (() => StorageAdapter) | undefined;
  /** Said once when the fallback takes over. */
  onFallback?(error: unknown, to: StorageAdapter): void;
}

/**
 * Errors of a write that will fail again on retry: not allowed (a permission, a read-only file
 * system, a report that is no regular file), a path that cannot be made (a file where a directory
 * must be, a loop of links, a name too long), no space left.
 */
const LASTING = new Set([
  "EACCES",
  "EPERM",
  "EROFS",
  "EEXIST",
  "ENOTDIR",
  "EISDIR",
  "ELOOP",
  "ENAMETOOLONG",
  "ENOSPC",
  "EDQUOT",
]);

/** Whether a storage error will come again on every retry (see `LASTING`). */
export function isLastingError(error: unknown): boolean {
  const e = error as { code?: unknown; name?: unknown } | null;
  return LASTING.has(String(e?.code)) || e?.name === "PermissionDenied" ||
    e?.name === "NotCapable" || e?.name === "AlreadyExists" || e?.name === "NotADirectory" ||
    e?.name === "IsADirectory";
}

/**
 * Hands a batch to a storage: as bytes where it takes them so (`appendBatch`), else as lines,
 * else joined.
 */
export function appendTo(
  storage: StorageAdapter,
  batch: LineBatch,
  onWrite?: () => void,
): Promise<void> {
  if (storage.appendBatch) return storage.appendBatch(batch, onWrite);
  return storage.appendLines ? storage.appendLines(batch.lines(), onWrite) : storage.append(
    batch.text(),
  );
}

/** A bounded queue in front of one storage adapter. */
export class RecordQueue {
  #storage: StorageAdapter;
  readonly #options: QueueOptions;
  readonly #capacity: number;
  /**
   * Records waiting, each encoded when queued: as bytes, they do not outlive V8's young
   * generation while they wait for the write before theirs (bench/NOTES.md).
   */
  readonly #items = new LineBuffer();
  #droppedSinceReport = 0;
  #draining: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #flushing = 0;
  /** Batches handed to the storage and not yet acknowledged, oldest first. */
  readonly #unacknowledged = new Set<LineBatch>();
  /** Batches the synchronous flush took over: their async outcome no longer counts. */
  readonly #takenOver = new WeakSet<LineBatch>();

  constructor(storage: StorageAdapter, options: QueueOptions) {
    this.#storage = storage;
    this.#options = options;
    this.#capacity = options.capacity ?? 10_000;
  }

  /** Records waiting to be written. */
  get size(): number {
    return this.#items.count;
  }

  /**
   * Queues records another step had taken and could not deliver (the daemon's unacknowledged
   * ones when it went away), past the capacity: they are held in memory already, and dropping
   * them here would lose records nobody was told were dropped.
   *
   * @example
   * ```ts
   * const daemon = new DaemonClient(socketPath, (records) => queue.pushUndelivered(records));
   * ```
   */
  pushUndelivered(records: readonly AnyRecord[]): void {
    if (records.length === 0) return;
    for (const record of records) this.#items.push(encodeJson(record));
    // Not drained at once: on an exit path flushSync() comes next and writes them.
    this.#arm();
  }

  /** Queues a record; drops and counts it when the queue is full. */
  push(record: AnyRecord): void {
    if (this.#items.count >= this.#capacity) {
      this.#droppedSinceReport++;
      this.#options.onDrop(1);
      return;
    }
    this.#items.push(encodeJson(record));
    if (this.#items.count >= EAGER_BATCH && this.#draining === null) {
      // A burst: write now. Records held for the whole window would outlive the young
      // generation and be promoted, growing the heap under a sustained burst.
      if (this.#timer !== null) {
        clearTimeout(this.#timer);
        this.#timer = null;
      }
      this.#draining = this.#drain();
      return;
    }
    // Wait a few milliseconds before writing: one append (a lock, a write) then carries every
    // record of a burst, instead of one each. flush() does not wait.
    this.#arm();
  }

  #arm(): void {
    if (this.#draining === null && this.#timer === null) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#draining ??= this.#drain();
      }, DRAIN_DELAY_MS);
    }
  }

  async #drain(): Promise<void> {
    const batchSize = this.#options.batch ?? Math.min(this.#capacity, DEFAULT_BATCH);
    // Appends land in order. The next batch is encoded while this one is written: once its write
    // has started where the storage says so (`appendLines`), else at once.
    let inFlight: Promise<void> | null = null;
    let handedOver: Promise<unknown> = Promise.resolve();
    try {
      // Keep writing while a flush waits or a large backlog remains; a few stragglers wait for
      // the next burst instead (each append costs a lock and a write).
      do {
        let batch = this.#items.take(batchSize);
        const records = batch.count;
        if (this.#droppedSinceReport > 0 && this.#items.count < this.#capacity) {
          const dropped = makeDroppedRecord(this.#droppedSinceReport, this.#options.proc);
          const taken = batch;
          batch = LineBatch.of([...taken.lines(), encodeJson(dropped)]);
          this.#items.giveBack(taken);
          this.#droppedSinceReport = 0;
        }
        let writing!: () => void;
        const started = new Promise<void>((resolve) => (writing = resolve));
        this.#unacknowledged.add(batch);
        const handOver = () =>
          this.#append(batch, writing).catch((error) => {
            if (this.#takenOver.has(batch)) return; // flushSync wrote it
            // The storage failed: say so once (the guard's logger), count the batch as dropped.
            this.#options.onFailure(error);
            this.#options.onDrop(records);
          }).finally(() => {
            this.#unacknowledged.delete(batch);
            // The storage is done with its bytes (appendBatch's contract): its buffer is reused.
            this.#items.giveBack(batch);
          });
        if (this.#storage.appendBatch || this.#storage.appendLines) {
          // Handed over at once (it lands after the one before: the storage keeps the order, and
          // its lock, for it); the next batch is encoded once this one is being written.
          inFlight = handOver();
          handedOver = Promise.all([handedOver, inFlight]);
          await Promise.race([started, inFlight]);
        } else {
          if (inFlight) await inFlight;
          inFlight = handOver();
        }
      } while (
        this.#items.count >= EAGER_BATCH ||
        (this.#flushing > 0 && (this.#items.count > 0 || this.#droppedSinceReport > 0))
      );
      await Promise.all([handedOver, inFlight]);
    } finally {
      this.#draining = null;
      if (this.#items.count > 0 || this.#droppedSinceReport > 0) this.#arm();
    }
  }

  #append(batch: LineBatch, onWrite: () => void): Promise<void> {
    const storage = this.#storage;
    return appendTo(storage, batch, onWrite).catch((error) => {
      if (!isLastingError(error)) throw error;
      if (this.#storage === storage) {
        const fallback = this.#options.fallback;
        if (!fallback) throw error;
        this.#options.fallback = undefined;
        this.#storage = fallback();
        this.#options.onFallback?.(error, this.#storage);
      } // else: a batch handed over with the one that switched storage follows it there
      return appendTo(this.#storage, batch, onWrite);
    });
  }

  /** Resolves when every record queued so far is written (or counted as dropped). */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      if (this.#timer !== null) {
        clearTimeout(this.#timer);
        this.#timer = null;
      }
      while (this.#draining) await this.#draining;
      if (this.#items.count > 0 || this.#droppedSinceReport > 0) {
        this.#draining = this.#drain();
        await this.#draining;
      }
    } finally {
      this.#flushing--;
    }
  }

  /**
   * Writes every pending record synchronously through the storage's `appendLinesSync`: the
   * batches handed over and not yet acknowledged (the storage skips what of them already landed),
   * then the queue. For exit paths, where no promise settles any more; a storage without
   * `appendLinesSync` keeps what it holds. Never throws: a failure is counted as dropped.
   *
   * @example
   * ```ts
   * import { RecordQueue } from "./queue.ts";
   * import { createNodeFsStorage } from "../storage/node_fs.ts";
   *
   * const queue = new RecordQueue(createNodeFsStorage({ path: "./guard.jsonl" }), {
   *   proc: { runtime: "node", service: null, pid: 1 },
   *   onDrop() {},
   *   onFailure() {},
   * });
   * process.on("exit", () => queue.flushSync());
   * ```
   */
  flushSync(): void {
    if (!this.#storage.appendLinesSync) return;
    const handedOver = [...this.#unacknowledged];
    if (handedOver.length === 0 && this.#items.count === 0 && this.#droppedSinceReport === 0) {
      return;
    }
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const lines: string[] = [];
    for (const batch of handedOver) {
      this.#takenOver.add(batch);
      this.#unacknowledged.delete(batch);
      for (const line of batch.lines()) lines.push(line);
    }
    for (const line of this.#items.take(this.#items.count).lines()) lines.push(line);
    const records = lines.length;
    if (this.#droppedSinceReport > 0) {
      lines.push(encodeJson(makeDroppedRecord(this.#droppedSinceReport, this.#options.proc)));
      this.#droppedSinceReport = 0;
    }
    try {
      this.#appendSync(lines);
    } catch (error) {
      this.#options.onFailure(error);
      this.#options.onDrop(records);
    }
  }

  #appendSync(lines: string[]): void {
    try {
      this.#storage.appendLinesSync!(lines);
    } catch (error) {
      const fallback = this.#options.fallback;
      if (!isLastingError(error) || !fallback) throw error;
      this.#options.fallback = undefined;
      this.#storage = fallback();
      this.#options.onFallback?.(error, this.#storage);
      if (!this.#storage.appendLinesSync) throw error;
      this.#storage.appendLinesSync(lines);
    }
  }

  /** Writes what is queued, then releases the storage (its `close()`: a Deno KV store, say). */
  async close(): Promise<void> {
    await this.flush();
    await this.#storage.close?.();
  }
}
