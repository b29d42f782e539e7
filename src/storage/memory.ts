/**
 * The `memory` storage adapter: keeps the newest records in a bounded ring in memory, for tests and
 * for reading what the guard saw in the same process (`Guard.records()` is such a ring).
 *
 * @example
 * ```ts
 * import { createMemoryStorage } from "@aiguard/attest/storage/memory";
 * import { enableGuard } from "@aiguard/attest";
 *
 * const storage = createMemoryStorage({ capacity: 100 });
 * const guard = enableGuard({ mode: "report", sinks: ["file"], storage });
 * await guard.disable();
 * console.log(storage.records().length);
 * ```
 *
 * @module
 */
import type { StorageAdapter } from "../config.ts";

export type { StorageAdapter };
import type { AnyRecord } from "../report/record.ts";

export type {
  AnyRecord,
  Detector,
  DroppedRecord,
  GuardMode,
  GuardRecord,
  RecordAction,
} from "../report/record.ts";
export { RECORD_V } from "../report/record.ts";

/** A bounded ring of the newest records, in memory. Backs `Guard.records()`. */
export class MemoryRing {
  readonly #capacity: number;
  #items: AnyRecord[] = [];
  #start = 0;

  /** A ring that keeps the newest `capacity` records. */
  constructor(capacity = 1000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Memory ring capacity must be a positive integer, got ${capacity}.`);
    }
    this.#capacity = capacity;
  }

  /** Adds a record, evicting the oldest when full. */
  push(record: AnyRecord): void {
    if (this.#items.length < this.#capacity) {
      this.#items.push(record);
      return;
    }
    this.#items[this.#start] = record;
    this.#start = (this.#start + 1) % this.#capacity;
  }

  /** Records, oldest first, newest last. */
  toArray(): AnyRecord[] {
    return [...this.#items.slice(this.#start), ...this.#items.slice(0, this.#start)];
  }
}

/** The `memory` storage adapter: keeps decoded lines in a bounded ring. */
export interface MemoryStorage extends StorageAdapter {
  /** Records kept, oldest first. */
  records(): AnyRecord[];
}

/**
 * Creates the `memory` storage adapter (a bounded ring; the oldest records go first).
 *
 * @example
 * ```ts
 * import { createMemoryStorage } from "@aiguard/attest/storage/memory";
 *
 * const storage = createMemoryStorage({ capacity: 100 });
 * await storage.append('{"v":1,"event":"dropped","count":1}\n');
 * console.log(storage.records().length);
 * ```
 */
export function createMemoryStorage(options: { capacity?: number } = {}): MemoryStorage {
  const ring = new MemoryRing(options.capacity ?? 1000);
  return {
    name: "memory",
    append(lines: string): Promise<void> {
      for (const line of lines.split("\n")) {
        if (line) ring.push(JSON.parse(line) as AnyRecord);
      }
      return Promise.resolve();
    },
    records: () => ring.toArray(),
  };
}
