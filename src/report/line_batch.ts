/**
 * Records' JSON lines held as UTF-8 bytes between the call that made them and the write: off V8's
 * heap, they do not outlive its young generation and grow it as strings or record objects held
 * that long would (bench/NOTES.md). Lines are strings again only where a step needs them, for as
 * long as it needs them.
 *
 * @module
 */

import { runtimeKey } from "../runtime.ts";

const encoder = new TextEncoder();

interface NodeBuffer extends Uint8Array {
  write(text: string, offset: number, encoding: "utf8"): number;
}

/**
 * Node's and Bun's `Buffer`, whose UTF-8 write into a buffer is several times cheaper there than
 * `TextEncoder.encodeInto`; on Deno (and where there is no `Buffer`) `encodeInto` is the cheaper
 * one (bench/NOTES.md).
 */
const NativeBuffer = runtimeKey() === "deno"
  ? undefined
  : (globalThis as { Buffer?: { alloc(size: number): NodeBuffer } }).Buffer;

function allocate(size: number): Uint8Array {
  return NativeBuffer ? NativeBuffer.alloc(size) : new Uint8Array(size);
}

/** A batch of JSON lines as UTF-8 bytes, each line `\n`-terminated. */
export class LineBatch {
  /** The lines' bytes, each line followed by `\n`. */
  readonly bytes: Uint8Array;
  /** How many lines. */
  readonly count: number;

  /** A batch of `count` lines: `bytes` holds each of them followed by `\n`. */
  constructor(bytes: Uint8Array, count: number) {
    this.bytes = bytes;
    this.count = count;
  }

  /** A batch of the given lines (JSON: no newline in any). */
  static of(lines: readonly string[]): LineBatch {
    const buffer = new LineBuffer();
    for (const line of lines) buffer.push(line);
    return buffer.take(lines.length);
  }

  /** The lines again, without their newlines. */
  lines(): string[] {
    // Line by line: one string of the whole batch would be a large object, and V8 promotes one
    // that is still alive at a scavenge (a batch is chained line by line) whole.
    const decoder = new TextDecoder();
    const lines: string[] = [];
    for (let start = 0; start < this.bytes.length;) {
      const newline = this.bytes.indexOf(10, start);
      const end = newline === -1 ? this.bytes.length : newline;
      lines.push(decoder.decode(this.bytes.subarray(start, end)));
      start = end + 1;
    }
    return lines;
  }

  /** The lines, each `\n`-terminated, as one string. */
  text(): string {
    return new TextDecoder().decode(this.bytes);
  }
}

/** The buffers of batches taken whole, to be given back once written ({@link LineBuffer}). */
const lent = new WeakMap<LineBatch, Uint8Array>();
/** Spare buffers a LineBuffer keeps, and the largest it keeps (a burst's buffer goes). */
const MAX_SPARES = 2;
const MAX_SPARE_BYTES = 4 * 1024 * 1024;
/** A new buffer's least size: a burst's batch (256 records) fits without growing it. */
const MIN_BYTES = 256 * 1024;

/**
 * Lines appended one at a time into one growing buffer, taken out in batches, oldest first. A
 * batch of every line held takes the buffer with it, and the buffer is used again once the batch
 * is given back ({@link LineBuffer.giveBack}): an allocation per batch would count as external
 * memory, whose growth makes V8 run full collections, and each of those grows the young
 * generation by what it finds alive there (bench/NOTES.md).
 */
export class LineBuffer {
  #bytes: Uint8Array = new Uint8Array(0);
  #spares: Uint8Array[] = [];
  #used = 0;
  /** Where each line held ends (after its newline). */
  #ends = new Uint32Array(0);
  #count = 0;

  /** Lines held. */
  get count(): number {
    return this.#count;
  }

  /** Appends a line (JSON: no newline in it). */
  push(line: string): void {
    // A UTF-16 unit takes at most 3 bytes.
    const room = line.length * 3 + 1;
    if (this.#bytes.length - this.#used < room) {
      // Empty (its buffer went with a batch): a buffer given back, else a new one.
      const spare = this.#used === 0 ? this.#spares.pop() : undefined;
      if (spare !== undefined && spare.length >= room) this.#bytes = spare;
      else {
        const larger = allocate(Math.max(this.#bytes.length * 2, this.#used + room, MIN_BYTES));
        larger.set(this.#bytes.subarray(0, this.#used));
        this.#bytes = larger;
      }
    }
    this.#used += NativeBuffer
      ? (this.#bytes as NodeBuffer).write(line, this.#used, "utf8")
      : encoder.encodeInto(line, this.#bytes.subarray(this.#used)).written;
    this.#bytes[this.#used++] = 10;
    if (this.#count === this.#ends.length) {
      const larger = new Uint32Array(Math.max(this.#ends.length * 2, 1024));
      larger.set(this.#ends);
      this.#ends = larger;
    }
    this.#ends[this.#count++] = this.#used;
  }

  /** Takes the oldest `max` lines (all when fewer) out, as a batch of their own. */
  take(max: number): LineBatch {
    const count = Math.min(max, this.#count);
    if (count === 0) return new LineBatch(new Uint8Array(0), 0);
    const end = this.#ends[count - 1]!;
    if (count === this.#count) {
      const whole = this.#bytes;
      const batch = new LineBatch(whole.subarray(0, end), count);
      lent.set(batch, whole);
      this.#bytes = new Uint8Array(0); // push() takes a spare, or allocates
      this.#used = 0;
      this.#count = 0;
      if (this.#ends.length > 64 * 1024) this.#ends = new Uint32Array(0);
      return batch;
    }
    // A copy (a Buffer's `slice` would be a view of bytes about to be overwritten).
    const bytes = new Uint8Array(end);
    bytes.set(this.#bytes.subarray(0, end));
    const batch = new LineBatch(bytes, count);
    this.#bytes.copyWithin(0, end, this.#used);
    this.#used -= end;
    for (let i = count; i < this.#count; i++) this.#ends[i - count] = this.#ends[i]! - end;
    this.#count -= count;
    return batch;
  }

  /**
   * Takes back the buffer of a batch taken whole, for the lines to come: call it once nothing will
   * read the batch's bytes again (its write has settled). Other batches are let go as they are.
   */
  giveBack(batch: LineBatch): void {
    const whole = lent.get(batch);
    if (whole === undefined) return;
    lent.delete(batch);
    // A burst's larger buffer goes: a quiet process keeps no more than a few megabytes.
    if (whole.length > MAX_SPARE_BYTES) return;
    this.#spares.push(whole);
    // The largest kept last (the next one used), the smallest let go first.
    this.#spares.sort((a, b) => a.length - b.length);
    if (this.#spares.length > MAX_SPARES) this.#spares.shift();
  }
}
