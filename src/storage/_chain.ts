/**
 * The hash chain over a report: every line the file storage writes carries `seq` (1, 2, …) and
 * `prev` (hex SHA-256 of the previous line's bytes without its newline; `null` on the first line
 * ever), continuous across rotation and across processes sharing the file under its lock. An
 * edited, removed, inserted or reordered line breaks it where `aiguard verify` can name it.
 *
 * @module
 */
import { builtinModule, runtimeKey } from "../runtime.ts";
import type { LineBatch } from "../report/line_batch.ts";

/** Where the chain stands: the last line's `seq` and hash. */
export interface ChainState {
  seq: number;
  hash: string | null;
}

interface Hash {
  update(data: string | Uint8Array, encoding?: "utf8"): Hash;
  digest(encoding: "hex"): string;
}

interface NodeCrypto {
  /** One-shot hashing (Node ≥ 21.7, Bun, Deno): cheaper than a Hash object (bench/NOTES.md). */
  hash?: (algorithm: string, data: string | Uint8Array, encoding: "hex") => string;
  createHash(algorithm: string): Hash;
}

let sha256: ((data: string | Uint8Array) => string) | null = null;

function hasher(): (data: string | Uint8Array) => string {
  if (sha256 === null) {
    const c = builtinModule<NodeCrypto>("node:crypto");
    if (!c) throw new Error("The report's hash chain needs node:crypto (Node, Deno, Bun).");
    const oneShot = c.hash;
    sha256 = typeof oneShot === "function"
      ? (data) => oneShot("sha256", data, "hex")
      : (data) => c.createHash("sha256").update(data).digest("hex");
  }
  return sha256;
}

/** Hex SHA-256 of a line's UTF-8 bytes (node:crypto, which Node, Deno and Bun have). */
export function sha256Hex(text: string): string {
  return hasher()(text);
}

/**
 * SHA-256 into a caller's 32 bytes, where the runtime has it (Bun.SHA256): no digest object and no
 * hex string per line (more chained records/s on Bun; bench/NOTES.md). Elsewhere the chain takes node:crypto's
 * hex.
 */
const sha256Into = (globalThis as {
  Bun?: { SHA256?: { hash(data: Uint8Array, into: Uint8Array): unknown } };
}).Bun?.SHA256;

export interface NodeBuffer extends Uint8Array {
  write(text: string, offset: number, encoding: "utf8" | "latin1"): number;
}

interface BufferModule {
  Buffer: { allocUnsafe(size: number): NodeBuffer; byteLength(text: string): number };
}

let bufferModule: BufferModule | null = null;

function buffers(): BufferModule["Buffer"] {
  bufferModule ??= builtinModule<BufferModule>("node:buffer") ??
    (() => {
      throw new Error("The report's hash chain needs node:buffer (Node, Deno, Bun).");
    })();
  return bufferModule.Buffer;
}

/**
 * For a line with no byte over 0x7F, Latin-1 and UTF-8 give the same bytes, and Node's Latin-1
 * write is a copy, several times faster than its UTF-8 write. On Bun both take the same time, so
 * the check would be the only cost; on Deno the Latin-1 write is the slow one (it runs in
 * JavaScript). Figures: bench/NOTES.md.
 */
const latin1WhenAscii = runtimeKey() === "node";

/**
 * A writer's output buffer, kept from one large batch to the next: a fresh one costs a page fault
 * per 4 KiB written (bench/NOTES.md). The bytes `chainLines` returns live in it until
 * its next use with the same scratch.
 */
export interface ChainScratch {
  buffer?: NodeBuffer | undefined;
}

/** Batches from this size (bytes, about 100 records) keep their output buffer for the next. */
const KEEP_FROM = 64 * 1024;

/** The most bytes `{"seq":<n>,"prev":"<64 hex>"` and a newline take. */
const HEAD_BYTES = 100;

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const SEQ = ascii('{"seq":');
const PREV_QUOTE = ascii(',"prev":"');
const PREV_NULL = ascii(',"prev":null');
const HEX = ascii("0123456789abcdef");

/** Writes `n` (a safe integer ≥ 0, checked by `chainLines`) in decimal at `at`. Returns the end. */
function writeDigits(out: Uint8Array, at: number, n: number): number {
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  const end = at + digits;
  for (let i = end - 1, rest = n; i >= at; i--, rest = Math.floor(rest / 10)) {
    out[i] = 48 + (rest % 10);
  }
  return end;
}

function hexOf(digest: Uint8Array): string {
  let hex = "";
  for (const b of digest) hex += String.fromCharCode(HEX[b >> 4]!, HEX[b & 15]!);
  return hex;
}

/**
 * Adds `seq` and `prev` to each JSON line of `lines` (one record each, no newline; or a
 * {@link LineBatch} of such lines, as bytes), in order, and returns them as UTF-8 bytes,
 * newline-terminated, ready to append. Each line is written once into the output and hashed there:
 * no joined batch to split again, no string built only to be hashed. A line that is not a JSON
 * object is written as it is, outside the chain.
 */
export function chainLines(
  lines: readonly (string | LineBatch)[],
  state: ChainState,
  scratch: ChainScratch = {},
): { bytes: Uint8Array; state: ChainState } {
  const Buffer = buffers();
  const hashBytes = hasher();
  let { seq, hash } = state;
  // A seq read from a file is checked there (chainPosition); this guards every other caller:
  // writeDigits(Infinity) would never end.
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw new RangeError(`The chain cannot continue from seq ${seq}: not a safe integer.`);
  }
  // The previous line's hash: as hex (node:crypto), or as 32 bytes (once sha256Into has run).
  const digest = new Uint8Array(32);
  let inDigest = false;
  let size = 0;
  for (const line of lines) {
    size += typeof line === "string"
      ? line.length + HEAD_BYTES
      : line.bytes.length + line.count * HEAD_BYTES;
  }
  // A burst keeps its buffer; the first small batch after it lets the buffer go.
  if (size < KEEP_FROM) scratch.buffer = undefined;
  let out = scratch.buffer && scratch.buffer.length >= size
    ? scratch.buffer
    : Buffer.allocUnsafe(size);
  let at = 0;
  /** Makes room for `bytes` more (strings past U+007F take 2–3 bytes a unit: rare). */
  const room = (bytes: number): void => {
    if (at + bytes + HEAD_BYTES <= out.length) return;
    const larger = Buffer.allocUnsafe(Math.max(out.length * 2, at + bytes + HEAD_BYTES));
    larger.set(out.subarray(0, at));
    out = larger;
  };
  /** Writes `{"seq":<seq>,"prev":"<hex>"` (or null) for the next line, byte by byte. */
  const head = (): void => {
    seq++;
    for (let i = 0; i < SEQ.length; i++) out[at++] = SEQ[i]!;
    at = writeDigits(out, at, seq);
    if (inDigest) {
      for (let i = 0; i < PREV_QUOTE.length; i++) out[at++] = PREV_QUOTE[i]!;
      for (let i = 0; i < 32; i++) {
        const b = digest[i]!;
        out[at++] = HEX[b >> 4]!;
        out[at++] = HEX[b & 15]!;
      }
      out[at++] = 34; // "
    } else if (hash === null) {
      out.set(PREV_NULL, at);
      at += PREV_NULL.length;
    } else {
      out.set(PREV_QUOTE, at);
      at += PREV_QUOTE.length;
      for (let i = 0; i < hash.length; i++) out[at++] = hash.charCodeAt(i);
      out[at++] = 34;
    }
  };
  /** Hashes the chained line written from `from`, and ends it. */
  const end = (from: number): void => {
    const written = new Uint8Array(out.buffer, out.byteOffset + from, at - from);
    if (sha256Into) {
      sha256Into.hash(written, digest);
      inDigest = true;
    } else {
      hash = hashBytes(written);
    }
    out[at++] = 10;
  };
  for (const line of lines) {
    if (typeof line !== "string") {
      const bytes = line.bytes;
      for (let start = 0; start < bytes.length;) {
        const stop = bytes.indexOf(10, start);
        room(stop - start);
        if (bytes[start] !== 123 /* { */) {
          out.set(bytes.subarray(start, stop + 1), at);
          at += stop + 1 - start;
        } else {
          const from = at;
          head();
          if (stop - start === 2 && bytes[start + 1] === 125 /* } */) out[at++] = 125;
          else {
            // The line's own `{` is where the `,` after the head goes.
            out[at++] = 44;
            out.set(bytes.subarray(start + 1, stop), at);
            at += stop - start - 1;
          }
          end(from);
        }
        start = stop + 1;
      }
      continue;
    }
    room(line.length * 3);
    const encoding = latin1WhenAscii && Buffer.byteLength(line) === line.length ? "latin1" : "utf8";
    if (line.charCodeAt(0) !== 123 /* { */) {
      at += out.write(line, at, encoding);
      out[at++] = 10;
      continue;
    }
    const from = at;
    head();
    if (line.length === 2 && line.charCodeAt(1) === 125 /* } */) {
      out[at++] = 125;
    } else {
      // The line's own `{` lands where the `,` after the head goes.
      const brace = at;
      at += out.write(line, at, encoding);
      out[brace] = 44; // ,
    }
    end(from);
  }
  if (inDigest) hash = hexOf(digest);
  if (size >= KEEP_FROM) scratch.buffer = out;
  return { bytes: out.subarray(0, at), state: { seq, hash } };
}

/**
 * The `seq` of a chained line as the file writer wrote it (`{"seq":<n>,"prev":…`), or `null` when
 * the line has none or one that is not a positive safe integer: such a line is broken, never a
 * number to continue from (a 310-digit seq is `Infinity`).
 */
export function chainedSeq(line: string): number | null {
  // By hand: a regular expression over every line of a report is a large part of verify's time.
  if (!line.startsWith('{"seq":')) return null;
  let at = 7;
  let seq = 0;
  for (; at < line.length && at < 7 + 17; at++) {
    const c = line.charCodeAt(at);
    if (c < 48 || c > 57) break;
    if (at === 7 && c === 48) return null; // no leading zero, no seq 0
    seq = seq * 10 + (c - 48);
  }
  if (at === 7 || at > 7 + 16 || !Number.isSafeInteger(seq)) return null;
  if (!line.startsWith(',"prev":', at)) return null;
  at += 8;
  if (line.startsWith("null", at)) at += 4;
  else {
    if (line.charCodeAt(at) !== 34) return null;
    for (let i = at + 1; i <= at + 64; i++) {
      const c = line.charCodeAt(i);
      if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return null;
    }
    if (line.charCodeAt(at + 65) !== 34) return null;
    at += 66;
  }
  const next = line.charCodeAt(at);
  return next === 44 || next === 125 ? seq : null;
}

/** What the end of a report file says about where its chain stands. */
export interface ChainTail {
  /** The last intact line with a valid `seq`, as a chain state; `null` when the tail has none. */
  state: ChainState | null;
  /** Bytes after the last newline: a line a crash cut short (0 when the file ends in `\n`). */
  tornBytes: number;
  /** Complete lines read. */
  lines: number;
  /** Whether a complete line after `state`'s (or with no valid line at all) claims a `seq`. */
  broken: boolean;
}

const NEWLINE = 10;

/**
 * Reads the end of a report file (`bytes`, the whole file when `fromStart`): the chain position to
 * continue from, and a torn last line if there is one. Lines whose `seq` is not a positive safe
 * integer are skipped as broken.
 */
export function chainTail(bytes: Uint8Array, fromStart: boolean): ChainTail {
  const end = bytes.lastIndexOf(NEWLINE);
  const tornBytes = bytes.length - (end + 1);
  if (end < 0) return { state: null, tornBytes, lines: 0, broken: false };
  const all = new TextDecoder().decode(bytes.subarray(0, end)).split("\n");
  // A tail read from the middle of the file begins inside a line.
  if (!fromStart) all.shift();
  let broken = false;
  for (let i = all.length - 1; i >= 0; i--) {
    const line = all[i]!;
    const seq = chainedSeq(line);
    if (seq !== null) {
      return { state: { seq, hash: sha256Hex(line) }, tornBytes, lines: all.length, broken };
    }
    // A line with no seq key at all comes from before the chain (an older version): no claim.
    if (line.includes('"seq"')) broken = true;
  }
  return { state: null, tornBytes, lines: all.length, broken };
}

const HEAD_LINE =
  /^\{"seq":[1-9][0-9]{0,15},"prev":(?:null|"[0-9a-f]{64}"),"event":"(?:chain_start|rotated|reset|report_id)","report":"([0-9a-f]{32})"/;

/** The report id a head line (`chain_start`, `rotated`, `reset`, `report_id`) carries, or `null`. */
export function headReport(line: string): string | null {
  return HEAD_LINE.exec(line)?.[1] ?? null;
}

const CHAIN_LINE =
  /^\{"seq":[1-9][0-9]{0,15},"prev":(?:null|"[0-9a-f]{64}"),"event":"(?:chain_start|rotated|reset|report_id|recovered|seal)"/;

/**
 * Whether a report line is one the chain writes for itself (a head, recovery, reset or seal line),
 * not a record.
 *
 * @example
 * ```ts
 * import { isChainLine } from "./_chain.ts";
 * isChainLine('{"seq":1,"prev":null,"event":"chain_start","report":"…"}'); // true
 * ```
 */
export function isChainLine(line: string): boolean {
  return CHAIN_LINE.test(line);
}

/** A new report id: 32 lowercase hex characters, random. */
export function newReportId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return hexOf(bytes);
}
