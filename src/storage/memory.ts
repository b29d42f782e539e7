import type { AnyRecord } from "../report/record.ts";

/**
 * A bounded ring of the newest records, in memory. Backs `Guard.records()` and the `memory` sink.
 *
 * @example
 * ```ts
 * import { createMemoryStorage } from "@aiguard/attest/storage/memory";
 *
 * const ring = createMemoryStorage({ capacity: 2 });
 * ```
 */
export class MemoryRing {
  readonly #capacity: number;
  #items: AnyRecord[] = [];
  #start = 0;

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

  /** Removes every record. */
  clear(): void {
    this.#items = [];
    this.#start = 0;
  }
}
