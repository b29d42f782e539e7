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
      const end = this.bytes.indexOf(10, start);
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

/** Lines appended one at a time into one growing buffer, taken out in batches, oldest first. */
export class LineBuffer {
  #bytes: Uint8Array = new Uint8Array(0);
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
      const larger = allocate(Math.max(this.#bytes.length * 2, this.#used + room, 64 * 1024));
      larger.set(this.#bytes.subarray(0, this.#used));
      this.#bytes = larger;
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
    // A copy (a Buffer's `slice` would be a view of bytes about to be overwritten).
    const bytes = new Uint8Array(end);
    bytes.set(this.#bytes.subarray(0, end));
    const batch = new LineBatch(bytes, count);
    this.#bytes.copyWithin(0, end, this.#used);
    this.#used -= end;
    for (let i = count; i < this.#count; i++) this.#ends[i - count] = this.#ends[i]! - end;
    this.#count -= count;
    // A burst's buffer goes once it is empty again: a quiet process keeps no megabytes.
    if (this.#count === 0 && this.#bytes.length > 1024 * 1024) {
      this.#bytes = new Uint8Array(0);
      this.#ends = new Uint32Array(0);
    }
    return batch;
  }
}
