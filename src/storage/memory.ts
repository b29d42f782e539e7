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

/** Fields a ring slot holds in place; a record with more is kept as the object itself. */
const SLOT_FIELDS = 24;
/** Key lists remembered per ring (records come in a few shapes: a call's, a drop's). */
const MAX_SHAPES = 16;
/** The slot holds the record object itself (in its first cell). */
const WHOLE = -1;

/**
 * A bounded ring of the newest records, in memory. Backs `Guard.records()`.
 *
 * A record is kept as its field values, in one array allocated once, beside the list of its keys
 * (one list per shape of record): a record object held for a thousand calls would outlive the
 * young generation and grow it (bench/NOTES.md), its values (shared strings, the frozen stack)
 * do not. `toArray()` builds the records again, same keys in the same order, same values, frozen
 * where they were.
 */
export class MemoryRing {
  readonly #capacity: number;
  /** `SLOT_FIELDS` cells per slot, allocated when first needed. */
  #cells: unknown[] = [];
  /** Per slot: the shape's index in `#shapes`, or `WHOLE`. */
  #shapeOf: Int8Array;
  /** Per slot: 1 when the record was frozen. */
  #frozen: Uint8Array;
  readonly #shapes: string[][] = [];
  #size = 0;
  #next = 0;
  /** The shape of the record pushed last, or `WHOLE`. */
  #lastShape = WHOLE;

  /** A ring that keeps the newest `capacity` records. */
  constructor(capacity = 1000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Memory ring capacity must be a positive integer, got ${capacity}.`);
    }
    this.#capacity = capacity;
    this.#shapeOf = new Int8Array(capacity);
    this.#frozen = new Uint8Array(capacity);
  }

  /** The index of the record's key list in `#shapes` (learnt if new), or `WHOLE`. */
  #shapeIndex(record: AnyRecord): number {
    for (let s = 0; s < this.#shapes.length; s++) {
      const keys = this.#shapes[s]!;
      let i = 0;
      let same = true;
      for (const key in record) {
        if (key !== keys[i++]) {
          same = false;
          break;
        }
      }
      if (same && i === keys.length) return s;
    }
    const keys = Object.keys(record);
    if (
      keys.length > SLOT_FIELDS || this.#shapes.length >= MAX_SHAPES || keys.includes("__proto__")
    ) return WHOLE;
    // for-in also walks inherited keys: a record that has any is kept whole.
    let own = 0;
    for (const _ in record) own++;
    if (own !== keys.length) return WHOLE;
    this.#shapes.push(keys);
    return this.#shapes.length - 1;
  }

  /**
   * Adds a record, evicting the oldest when full. `frozen` says whether the record is frozen, for
   * a caller that knows (`Object.isFrozen` was costly on Bun in the SDK bench: bench/NOTES.md).
   */
  push(record: AnyRecord, frozen: boolean = Object.isFrozen(record)): void {
    const slot = this.#next;
    this.#next = slot + 1 === this.#capacity ? 0 : slot + 1;
    if (this.#size < this.#capacity) this.#size++;
    const base = slot * SLOT_FIELDS;
    if (this.#cells.length < base + SLOT_FIELDS) {
      this.#cells = this.#cells.concat(new Array(SLOT_FIELDS * 64).fill(undefined));
    }
    const cells = this.#cells;
    this.#frozen[slot] = frozen ? 1 : 0;
    // Records come in a few shapes, mostly the last one's: check its keys and copy the values in
    // one pass (a for-in reading `record[key]` is V8's fast enumerated load).
    const last = this.#lastShape;
    if (last !== WHOLE) {
      const keys = this.#shapes[last]!;
      const fields = record as unknown as Record<string, unknown>;
      let i = 0;
      for (const key in fields) {
        if (key !== keys[i]) {
          i = -1;
          break;
        }
        cells[base + i++] = fields[key];
      }
      if (i === keys.length) {
        this.#shapeOf[slot] = last;
        for (; i < SLOT_FIELDS; i++) cells[base + i] = undefined;
        return;
      }
    }
    const shape = this.#shapeIndex(record);
    this.#lastShape = shape;
    this.#shapeOf[slot] = shape;
    if (shape === WHOLE) {
      cells[base] = record;
      for (let i = 1; i < SLOT_FIELDS; i++) cells[base + i] = undefined;
      return;
    }
    const keys = this.#shapes[shape]!;
    const fields = record as unknown as Record<string, unknown>;
    for (let i = 0; i < keys.length; i++) cells[base + i] = fields[keys[i]!];
    // Let go of what the slot's previous record held.
    for (let i = keys.length; i < SLOT_FIELDS; i++) cells[base + i] = undefined;
  }

  /** Records, oldest first, newest last. */
  toArray(): AnyRecord[] {
    const out: AnyRecord[] = [];
    const first = this.#size < this.#capacity ? 0 : this.#next;
    for (let n = 0; n < this.#size; n++) {
      const slot = (first + n) % this.#capacity;
      const base = slot * SLOT_FIELDS;
      const shape = this.#shapeOf[slot]!;
      if (shape === WHOLE) {
        out.push(this.#cells[base] as AnyRecord);
        continue;
      }
      const keys = this.#shapes[shape]!;
      const record: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) record[keys[i]!] = this.#cells[base + i];
      out.push((this.#frozen[slot] ? Object.freeze(record) : record) as unknown as AnyRecord);
    }
    return out;
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
