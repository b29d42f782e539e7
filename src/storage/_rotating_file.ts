/**
 * What the file adapters share: a JSONL file with rotation under a lock file, so several processes
 * never tear, interleave or lose a line. An adapter only supplies how a batch's bytes are appended;
 * the small steps around it (lock, open, the file's tail, rotation) are synchronous node:fs calls,
 * so the exit path (`appendLinesSync`) and the batches share one implementation.
 *
 * The file's own lines (formats: head, recovery, seal) are written here: `chain_start` or `rotated`
 * first in every file, `report_id` for a file an older version began, `recovered` after a torn
 * tail, `reset` where no valid `seq` is left to continue from, and a seal after every batch.
 *
 * @module
 */
import type { StorageAdapter } from "../config.ts";
import { directoryProblem } from "../private_dir.ts";
import { builtinModule, processUid } from "../runtime.ts";
import {
  chainLines,
  type ChainState,
  type ChainTail,
  chainTail,
  headReport,
  newReportId,
} from "./_chain.ts";
import { type HeldLock, lock, lockSync, type SyncFs, syncFs, unlock } from "./_report_lock.ts";
import { type Sealer, sealerFromKey } from "./_seal.ts";
import type { LineBatch } from "../report/line_batch.ts";
import { loadSigningKey } from "./_signing_key.ts";

/** Options of the file storage adapters. */
export interface FileStorageOptions {
  /** The report file, e.g. `~/.aiguard/guard_log.jsonl`. */
  path: string;
  /** Rotate when the next write would pass this size (bytes). Default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept. Default 3. */
  backups?: number;
  /** Chain every line (`seq`, `prev`) for `aiguard verify`. Default `true`. */
  chain?: boolean;
  /**
   * An Ed25519 private key (PKCS#8 PEM), as the PEM text itself or the path of a file holding it:
   * a signed seal line follows every batch (`AIGUARD_SIGNING_KEY`). No message ever repeats it.
   */
  signingKey?: string;
  /**
   * Whether waiting for another process's report lock keeps this process alive. Default `true`:
   * an awaited write lands before the process ends. The guard's own report passes `false`, so that
   * an app whose work is done ends even while a stopped process holds the lock; its exit path then
   * writes what is pending (a bounded wait, then without the lock).
   */
  keepAlive?: boolean;
}

/** The name of backup `n` of `path`: `guard_log.jsonl` → `guard_log.n.jsonl`. */
export function backupName(path: string, n: number): string {
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  return dot > slash + 1 ? `${path.slice(0, dot)}.${n}${path.slice(dot)}` : `${path}.${n}`;
}

const nativeByteLength = (globalThis as {
  Buffer?: { byteLength(text: string, encoding: "utf8"): number };
}).Buffer?.byteLength;

/** UTF-8 length of a string, without encoding it (a batch can be megabytes). */
export function utf8Length(text: string): number {
  if (nativeByteLength !== undefined) return nativeByteLength(text, "utf8");
  return utf8LengthScan(text);
}

/** The same, counted in JavaScript (runtimes without `Buffer`). */
export function utf8LengthScan(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // a surrogate pair: 4 bytes for 2 UTF-16 units
        i++;
      } else bytes += 2; // a lone surrogate is written as U+FFFD (3 bytes)
    } else bytes += 2;
  }
  return bytes;
}

/** The report opened by node:fs/promises for a batch's write (a `FileHandle`). */
export interface ReportHandle {
  readonly fd: number;
  write(data: Uint8Array): Promise<{ bytesWritten: number }>;
  stat(): Promise<{ ino: number }>;
  close(): Promise<void>;
}

/** Appends a batch's bytes to the report (the adapter's part): all of them. */
export type AppendBytes = (handle: ReportHandle, data: Uint8Array) => Promise<void>;

/**
 * Writes all of `data` through the report's `FileHandle` (off the main thread where the runtime
 * can), continuing after a short write. A `FileHandle` rather than `fs.write(fd, …)`: on Bun the
 * callback form's completion comes later under load, and bursts ran slower (bench/NOTES.md).
 *
 * @example
 * ```ts
 * import { writeAll } from "./_rotating_file.ts";
 * await writeAll(handle, new TextEncoder().encode("{}\n"));
 * ```
 */
export async function writeAll(handle: ReportHandle, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length;) {
    at += (await handle.write(at === 0 ? data : data.subarray(at))).bytesWritten;
  }
}

interface FsPromisesOpen {
  promises: { open(path: string, flags: number): Promise<ReportHandle> };
  constants: Record<string, number>;
}

/** Opens the report for a batch's writes: the same file (inode) the writer holds, no symlink. */
async function openWriteHandle(path: string, ino: number): Promise<ReportHandle> {
  const fs = builtinModule<FsPromisesOpen>("node:fs")!;
  const c = fs.constants;
  const handle = await fs.promises.open(path, c.O_WRONLY! | c.O_APPEND! | c.O_NOFOLLOW!);
  if ((await handle.stat()).ino !== ino) {
    await handle.close();
    throw refused(`aiguard: the report ${path} was replaced while it was opened; not writing.`);
  }
  return handle;
}

function writeAllSync(fs: SyncFs, fd: number, data: Uint8Array): void {
  for (let at = 0; at < data.length;) at += fs.writeSync(fd, data.subarray(at));
}

/** An error the queue treats as "not allowed here": records go to the fallback storage. */
function refused(message: string): Error {
  return Object.assign(new Error(message), { code: "EPERM" });
}

/**
 * Creates the report's directory (0700) and refuses one that others can write or another user
 * owns: whoever can write there can swap the report or plant a symlink.
 */
function checkDirectory(fs: SyncFs, dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.statSync(dir);
  if (!st.isDirectory()) throw refused(`aiguard: the report directory ${dir} is not a directory.`);
  const uid = processUid();
  const problem = directoryProblem(st, uid);
  if (problem === "shared") {
    throw refused(
      `aiguard: the report directory ${dir} is writable by others (mode ${
        (st.mode & 0o777).toString(8)
      }); refusing to write there (chmod 700 it).`,
    );
  }
  if (problem === "foreign") {
    throw refused(
      `aiguard: the report directory ${dir} belongs to uid ${st.uid}, not to this user (${uid}); refusing to write there.`,
    );
  }
}

/** A report file opened for appending and reading, never through a symlink, and what it is. */
interface OpenReport {
  fd: number;
  ino: number;
  size: number;
}

function openReport(fs: SyncFs, path: string): OpenReport {
  const c = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(
      path,
      c.O_RDWR! | c.O_APPEND! | c.O_CREAT! | c.O_NOFOLLOW! | c.O_NONBLOCK!,
      0o600,
    );
  } catch (error) {
    if ((error as { code?: string }).code === "ELOOP") {
      throw refused(`aiguard: the report ${path} is a symlink; refusing to follow it.`);
    }
    throw error;
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw refused(`aiguard: the report ${path} is not a regular file; refusing to write to it.`);
  }
  return { fd, ino: st.ino, size: st.size };
}

function readAt(fs: SyncFs, fd: number, position: number, length: number): Uint8Array {
  const buffer = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, buffer, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return buffer.subarray(0, got);
}

/** A file's last line is within its last 64 KiB (records are capped far below that). */
const TAIL_BYTES = 64 * 1024;
/** The most read back to find where a torn last line starts. */
const TAIL_MAX = 16 * 1024 * 1024;

/** The end of a report file: where its chain stands, and a torn last line. */
function tailOf(fs: SyncFs, fd: number, size: number): ChainTail {
  for (let length = Math.min(size, TAIL_BYTES);; length = Math.min(size, length * 4)) {
    const bytes = readAt(fs, fd, size - length, length);
    const tail = chainTail(bytes, length === size);
    // A torn line longer than what was read: read further back to measure it.
    if (tail.lines > 0 || length === size || length >= TAIL_MAX) return tail;
  }
}

/** The same for a report file by name (a backup), or `null` when there is none. */
function tailOfFile(fs: SyncFs, path: string): { tail: ChainTail; report: string | null } | null {
  const c = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(path, c.O_RDONLY! | c.O_NOFOLLOW! | c.O_NONBLOCK!);
  } catch {
    return null;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size === 0) return null;
    return { tail: tailOf(fs, fd, st.size), report: reportIdOf(fs, fd, st.size) };
  } finally {
    fs.closeSync(fd);
  }
}

/** Head lines are short; the first line of a report is read this far. */
const HEAD_BYTES = 1024;

/**
 * The report id of a file: its head line's, or for a file an older version began (no head line)
 * the first `report_id` (or `reset`) line in it; `null` when it has none.
 */
function reportIdOf(fs: SyncFs, fd: number, size: number): string | null {
  const start = new TextDecoder().decode(readAt(fs, fd, 0, Math.min(size, HEAD_BYTES)));
  const head = headReport(start.slice(0, start.indexOf("\n") >>> 0));
  if (head !== null || size <= HEAD_BYTES) return head;
  const text = new TextDecoder().decode(readAt(fs, fd, 0, size));
  for (const line of text.split("\n")) {
    const id = headReport(line);
    if (id !== null) return id;
  }
  return null;
}

function rotateFiles(fs: SyncFs, path: string, backups: number): void {
  const gone = (fn: () => void) => {
    try {
      fn();
    } catch {
      // not there
    }
  };
  if (backups === 0) {
    gone(() => fs.unlinkSync(path));
    return;
  }
  gone(() => fs.unlinkSync(backupName(path, backups)));
  for (let n = backups - 1; n >= 1; n--) {
    gone(() => fs.renameSync(backupName(path, n), backupName(path, n + 1)));
  }
  gone(() => fs.renameSync(path, backupName(path, 1)));
}

/** A writer's hold on the file: the lock, the report opened for appending, and its size. */
interface Hold extends OpenReport {
  lock: HeldLock | null;
  since: number;
  /** For batches' writes, opened on the first one (and again after a rotation). */
  handle: ReportHandle | null;
  handleIno: number;
}

/** Where the chain stands in the open report, and the report's id. */
interface Position {
  ino: number;
  size: number;
  state: ChainState;
  report: string;
}

/**
 * How long a writer may keep the lock for its next batch when that batch is already waiting (a
 * burst): lock, size and open file then carry over, instead of one round trip each per batch.
 */
const HOLD_MS = 50;

/** How long an exit path waits for a live holder of the lock before writing without it. */
const EXIT_LOCK_WAIT_MS = 2_000;

const encoder = new TextEncoder();
const NEWLINE = encoder.encode("\n");
const line = (fields: Record<string, unknown>): string =>
  JSON.stringify({ ...fields, ts: new Date().toISOString() });

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The adapter the file storages share (node-fs, bun-file): a {@link StorageAdapter} that can also
 * write synchronously, for exit paths.
 *
 * @example
 * ```ts
 * import { createNodeFsStorage } from "@aiguard/attest/storage/node-fs";
 *
 * const storage = createNodeFsStorage({ path: "./guard.jsonl" });
 * process.once("exit", () => storage.appendLinesSync(['{"v":1,"event":"ai_call"}']));
 * ```
 */
export interface RotatingFileStorage extends StorageAdapter {
  /**
   * Exit paths only: writes lines synchronously before the process ends — under the lock (waited
   * for at most 2 s), chained, rotated and sealed as `appendLines` does. Throws what kept it from
   * writing them (the guard's queue then writes them to stderr, or counts them as dropped).
   */
  appendLinesSync(lines: readonly string[]): void;
  /** Waits for the batches handed over, then releases the lock if this writer still holds it. */
  close(): Promise<void>;
}

/**
 * A rotating JSONL file storage; `write` appends each batch's bytes to a descriptor opened for
 * appending (mode 0600, never through a symlink, in a directory created 0700 and refused when
 * others can write it). Lines are chained (`seq`, `prev`) under the lock, so writers in several
 * processes keep one chain; every file begins with a head line that names the report.
 */
export function createRotatingFileStorage(
  name: string,
  options: FileStorageOptions,
  write: AppendBytes,
): RotatingFileStorage {
  const { path } = options;
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const backups = options.backups ?? 3;
  const dir = path.slice(0, Math.max(path.lastIndexOf("/"), 0)) || ".";
  let dirChecked = false;
  const chain = options.chain ?? true;
  // Where this writer left the chain. Valid only for the same file (inode: rotation makes a new
  // one) at the same size (another writer's append changes it); else the file is read again.
  let known: Position | null = null;
  let reportOfFile: { ino: number; report: string } | null = null;
  let sealerReady: Sealer | null | undefined;
  /** Loads the key once, synchronously (an exit path may come before any batch). */
  const loadSealerSync = (): Sealer | null => {
    if (sealerReady !== undefined) return sealerReady;
    try {
      sealerReady = sealerFromKey(loadSigningKey(options.signingKey!));
    } catch (error) {
      // Evidence unsealed beats evidence lost: say so once, write on without seals. The loader's
      // messages never hold key material.
      console.warn(`aiguard: ${(error as Error).message} Records are written without seals.`);
      sealerReady = null;
    }
    return sealerReady;
  };
  const loadSealer = (): Promise<Sealer | null> => Promise.resolve(loadSealerSync());
  const scratch = {};
  const lockPath = `${path}.lock`;
  let hold: Hold | null = null;
  // Where the batch whose write is under way goes (an exit path may find it half done). Its
  // lines are not kept: an exit path reads what landed back from the file.
  let inFlight: { from: number; bytes: number } | null = null;
  // The last batches that landed: their caller may not have seen the write resolve yet (an exit
  // can come between the write and the caller's continuation), so an exit path may hand their
  // lines over again. Kept per file (inode): offsets mean nothing in another.
  const landedRecently: Array<{ from: number; bytes: number; ino: number }> = [];
  // Lines an exit path wrote while batches holding them were still queued: not written twice.
  const writtenOnExit = new Set<string>();
  // Bumped by every synchronous write: an async write that lands after one does not know the size.
  let syncWrites = 0;
  // Batches land one after another, in the order they were handed over.
  let turn: Promise<void> = Promise.resolve();
  let waiting = 0;
  // Batches handed over and not yet landed (waiting, or being written).
  let unfinished = 0;
  // Holds whose lock an exit path released while their batch was under way.
  const surrendered = new Set<Hold>();

  const ensureDirectory = (fs: SyncFs): void => {
    if (!dirChecked) {
      checkDirectory(fs, dir);
      dirChecked = true;
    }
  };

  const open = (fs: SyncFs, lock: HeldLock | null): Hold => {
    try {
      return { ...openReport(fs, path), lock, since: Date.now(), handle: null, handleIno: -1 };
    } catch (error) {
      if (lock) unlock(fs, lock);
      throw error;
    }
  };
  const release = (fs: SyncFs, held: Hold): Promise<void> => {
    const handle = held.handle;
    held.handle = null;
    try {
      fs.closeSync(held.fd);
    } finally {
      if (held.lock) unlock(fs, held.lock);
    }
    return handle ? handle.close().catch(() => {}) : Promise.resolve();
  };

  /** Writes bytes now (small repairs, exit paths), keeping `held.size` true. */
  const writeNow = (fs: SyncFs, held: Hold, bytes: Uint8Array): void => {
    writeAllSync(fs, held.fd, bytes);
    held.size += bytes.length;
  };

  /**
   * Where the chain stands in the held file, read from it. A torn last line is ended and a
   * `recovered` line written; a file with no usable chain gets a `reset` (a broken seq) or
   * `chain_start`; a file with no report id gets a `report_id` line. Returns the lines to put
   * before the batch (a head line for an empty file).
   */
  const locate = (fs: SyncFs, held: Hold): { at: Position; lead: string[] } => {
    if (held.size === 0) {
      // An empty live file: the chain goes on from the newest backup, or starts here.
      const prior = backups > 0 ? tailOfFile(fs, backupName(path, 1)) : null;
      if (prior?.tail.state) {
        const report = prior.report ?? newReportId();
        return {
          at: { ino: held.ino, size: 0, state: prior.tail.state, report },
          lead: [line({ event: "rotated", report, dropped_upto: null })],
        };
      }
      const report = newReportId();
      return {
        at: { ino: held.ino, size: 0, state: { seq: 0, hash: null }, report },
        lead: [line({ event: "chain_start", report })],
      };
    }
    const tail = tailOf(fs, held.fd, held.size);
    // A file's report id never changes: read once per inode.
    let report = reportOfFile?.ino === held.ino
      ? reportOfFile.report
      : reportIdOf(fs, held.fd, held.size);
    const repairs: string[] = [];
    let state = tail.state;
    if (state === null) {
      if (tail.broken) {
        report ??= newReportId();
        repairs.push(line({
          event: "reset",
          report,
          reason: "no line in the file's tail has a seq that is a positive safe integer",
        }));
      } else if (tail.lines > 0) {
        // Lines from before the chain (an older version): the chain starts after them.
        report ??= newReportId();
        repairs.push(line({ event: "chain_start", report }));
      }
      state = tail.lines === 0 && backups > 0
        ? tailOfFile(fs, backupName(path, 1))?.tail.state ?? { seq: 0, hash: null }
        : { seq: 0, hash: null };
    }
    if (tail.tornBytes > 0) {
      repairs.push(line({
        event: "recovered",
        torn_bytes: tail.tornBytes,
        after_seq: state.seq > 0 ? state.seq : null,
      }));
    }
    if (report === null) {
      report = newReportId();
      repairs.push(line({ event: "report_id", report }));
    }
    reportOfFile = { ino: held.ino, report };
    if (repairs.length > 0) {
      const chained = chainLines(repairs, state);
      writeNow(fs, held, tail.tornBytes > 0 ? concat([NEWLINE, chained.bytes]) : chained.bytes);
      state = chained.state;
    }
    return { at: { ino: held.ino, size: held.size, state, report }, lead: [] };
  };

  /** Chains a batch (and seals it), rotating first when it would pass `maxBytes`. */
  const prepare = (
    fs: SyncFs,
    held: Hold,
    lines: Lines,
    seal: Sealer | null,
  ): { bytes: Uint8Array; after: Position | null } => {
    if (!chain) {
      const bytes = isBatch(lines) ? lines.bytes : encoder.encode(`${lines.join("\n")}\n`);
      if (held.size > 0 && held.size + bytes.length > maxBytes) rotate(fs, held, null);
      return { bytes, after: null };
    }
    let { at, lead } = known && known.ino === held.ino && known.size === held.size
      ? { at: known, lead: [] as string[] }
      : locate(fs, held);
    const rotateFirst = (): void => {
      lead = [line({ event: "rotated", report: at.report, dropped_upto: rotate(fs, held, at) })];
      at = { ...at, ino: held.ino, size: 0 };
    };
    // Rotation is decided before the batch is chained (the rotated line comes first, and chaining
    // twice would cost a batch's hashing), on its size as counted in UTF-16 units: exact for
    // ASCII; a batch with wider characters that still passes maxBytes is chained again.
    if (held.size > 0 && held.size + estimatedBytes(lead, lines, at.state.seq, seal) > maxBytes) {
      rotateFirst();
    }
    let batch = chainBatch(lead, lines, at, seal);
    if (held.size > 0 && held.size + batch.bytes.length > maxBytes) {
      rotateFirst();
      batch = chainBatch(lead, lines, at, seal);
    }
    return {
      bytes: batch.bytes,
      after: { ...at, size: held.size + batch.bytes.length, state: batch.state },
    };
  };

  const chainBatch = (
    lead: string[],
    lines: Lines,
    at: Position,
    seal: Sealer | null,
  ): { bytes: Uint8Array; state: ChainState } => {
    const parts = isBatch(lines) ? [...lead, lines] : lead.length > 0 ? [...lead, ...lines] : lines;
    const chained = chainLines(parts, at.state, scratch);
    if (!seal || chained.state.hash === null) return chained;
    const sealed = chainLines(
      [seal.seal(chained.state.seq, chained.state.hash, at.report)],
      chained.state,
    );
    return { bytes: concat([chained.bytes, sealed.bytes]), state: sealed.state };
  };

  /**
   * Rotates the held file and opens the new one. Returns the last seq of the file rotation
   * deleted (for the `rotated` line), or `null` when none was deleted.
   */
  const rotate = (fs: SyncFs, held: Hold, at: Position | null): number | null => {
    const dropped = at === null
      ? null
      : backups === 0
      ? at.state.seq
      : tailOfFile(fs, backupName(path, backups))?.tail.state?.seq ?? null;
    fs.closeSync(held.fd);
    rotateFiles(fs, path, backups);
    Object.assign(held, openReport(fs, path));
    return dropped;
  };

  /**
   * Writes a batch. One given as bytes (`appendBatch`, the queue's) is chained from its bytes:
   * its lines held as strings while the batch waits would outlive V8's young generation
   * (bench/NOTES.md). Lines given as strings are let go once chained.
   */
  const land = async (
    batch: { lines: readonly string[] | null; bytes: LineBatch | null },
    onWrite?: () => void,
  ): Promise<void> => {
    const fs = syncFs(name);
    ensureDirectory(fs);
    const seal = options.signingKey && chain ? await loadSealer() : null;
    if (!hold) {
      hold = open(fs, await lock(fs, lockPath, options.keepAlive ?? true));
    }
    const held = hold;
    try {
      let lines: Lines | null;
      let prepared: ReturnType<typeof prepare>;
      let before: number;
      /** Opens the write handle for the held file; false when an exit path wrote meanwhile. */
      const openHandle = async (): Promise<boolean> => {
        const since = syncWrites;
        const stale = held.handle;
        held.handle = null;
        await stale?.close().catch(() => {});
        held.handle = await openWriteHandle(path, held.ino);
        held.handleIno = held.ino;
        if (syncWrites === since) return true;
        known = null;
        held.size = fs.fstatSync(held.fd).size;
        return false;
      };
      // The handle first: lines given as strings are then chained and let go with no wait between.
      if (held.handle === null || held.handleIno !== held.ino) await openHandle();
      for (;;) {
        // An exit path may have written some of these while this batch waited (then they are
        // compared as strings: a rare path).
        lines = writtenOnExit.size === 0
          ? batch.lines ?? batch.bytes!
          : (batch.lines ?? batch.bytes!.lines()).filter((l) => !writtenOnExit.has(l));
        if ((isBatch(lines) ? lines.count : lines.length) === 0) {
          onWrite?.();
          return;
        }
        before = syncWrites;
        prepared = prepare(fs, held, lines, seal);
        lines = null;
        // Rotation opened another file: it needs its own handle. What was prepared stays unless
        // an exit path wrote meanwhile (it no longer follows the file's chain then).
        if (held.handleIno === held.ino || await openHandle()) break;
      }
      const { bytes, after } = prepared;
      known = null; // until this write is known to have landed
      inFlight = { from: held.size, bytes: bytes.length };
      batch.lines = null;
      const writing = write(held.handle!, bytes);
      onWrite?.(); // the caller may prepare its next batch while this one is written
      await writing;
      landedRecently.push({ ...inFlight, ino: held.ino });
      if (landedRecently.length > 2) landedRecently.shift();
      inFlight = null;
      if (syncWrites === before) {
        held.size += bytes.length;
        known = after;
      } else {
        held.size = fs.fstatSync(held.fd).size;
      }
    } catch (error) {
      inFlight = null;
      if (hold === held) hold = null;
      surrendered.delete(held);
      try {
        await release(fs, held);
      } catch {
        // the error that brought us here says more
      }
      throw error;
    } finally {
      // Keep the hold for this writer's next batch if it is already waiting, for a short while.
      if (hold === held && (waiting === 0 || Date.now() - held.since > HOLD_MS)) {
        hold = null;
        await release(fs, held);
      } else if (surrendered.delete(held)) {
        await release(fs, held); // an exit path took its lock away: only the file is left to close
      }
    }
  };

  const appendBatch = (
    batch: { lines: readonly string[] | null; bytes: LineBatch | null },
    onWrite?: () => void,
  ): Promise<void> => {
    waiting++;
    unfinished++;
    const landed = turn.then(() => {
      waiting--;
      return land(batch, onWrite);
    }).finally(() => {
      if (--unfinished === 0) writtenOnExit.clear();
    });
    turn = landed.catch(() => {});
    return landed;
  };
  const appendLines = (lines: readonly string[], onWrite?: () => void): Promise<void> =>
    lines.length === 0 ? Promise.resolve() : appendBatch({ lines, bytes: null }, onWrite);

  /**
   * Exit paths: writes `lines` before the process ends — locked (a bounded wait), chained,
   * rotated and sealed as `appendLines` does. While this writer's own batch is being written it
   * holds the lock already: the sync path goes on under it, from the file as it now is, and skips
   * lines of that batch which already landed. Throws what kept it from writing them.
   */
  const appendLinesSync = (lines: readonly string[]): void => {
    if (lines.length === 0) return;
    let fs: SyncFs | null = null;
    let own: Hold | null = null;
    try {
      fs = syncFs(name);
      ensureDirectory(fs);
      let held = hold;
      let pending = lines;
      if (held) {
        known = null; // the batch under way may have landed, in part or whole
        if (inFlight) {
          // Its bytes are on their way (the runtime's thread pool goes on while this thread
          // sleeps): wait for them, briefly, then keep only what did not land.
          waitForSize(fs, held.fd, inFlight.from + inFlight.bytes, EXIT_LOCK_WAIT_MS);
          held.size = fs.fstatSync(held.fd).size;
          pending = notYetWritten(fs, held, inFlight, lines);
        } else {
          held.size = fs.fstatSync(held.fd).size;
        }
      } else {
        const taken = lockSync(fs, lockPath, EXIT_LOCK_WAIT_MS);
        if (!taken) {
          console.warn(
            `aiguard: the report lock ${lockPath} is still held after ${EXIT_LOCK_WAIT_MS} ms; ` +
              `writing ${lines.length} records without it (the chain may fork here).`,
          );
        }
        held = own = open(fs, taken);
      }
      for (const batch of landedRecently) {
        if (batch.ino === held.ino) pending = notYetWritten(fs, held, batch, pending);
      }
      if (pending.length === 0) return;
      const seal = options.signingKey && chain ? loadSealerSync() : null;
      const { bytes, after } = prepare(fs, held, pending, seal);
      syncWrites++;
      writeNow(fs, held, bytes);
      known = after;
      if (unfinished > 0) { for (const l of pending) writtenOnExit.add(l); }
    } finally {
      if (own && fs) {
        try {
          void release(fs, own);
        } catch {
          // the process is ending
        }
      } else if (fs && hold !== null && hold.lock !== null) {
        // This writer's batch held the lock: give it up now, or the process ends with the lock
        // file left behind. The batch under way sees the hold surrendered and only closes its file.
        const held = hold;
        hold = null;
        try {
          if (unfinished === 0) void release(fs, held); // kept for a next batch that never came
          else {
            unlock(fs, held.lock!);
            held.lock = null;
            surrendered.add(held);
          }
        } catch {
          // the process is ending
        }
      }
    }
  };

  return {
    name,
    append: (text) => appendLines(text.split("\n").filter((line) => line !== "")),
    appendLines,
    appendBatch: (batch, onWrite) =>
      batch.count === 0 ? Promise.resolve() : appendBatch({ lines: null, bytes: batch }, onWrite),
    appendLinesSync,
    close: async () => {
      await turn;
      if (hold) {
        const held = hold;
        hold = null;
        await release(syncFs(name), held);
      }
    },
  };
}

/** A batch's lines: as strings, or as the queue's bytes. */
type Lines = readonly string[] | LineBatch;

function isBatch(lines: Lines): lines is LineBatch {
  return !Array.isArray(lines);
}

/** A seal line's most bytes (chained): report id, hashes, signature, key id, time. */
const SEAL_BYTES = 400;

/**
 * A chained batch's size, from its lines' UTF-16 lengths: each JSON line gains
 * `{"seq":<n>,"prev":"<64 hex>",` and a newline (82 bytes and n's digits).
 */
function estimatedBytes(
  lead: readonly string[],
  lines: Lines,
  seq: number,
  seal: Sealer | null,
): number {
  const count = isBatch(lines) ? lines.count : lines.length;
  const head = 83 + String(seq + lead.length + count + 1).length;
  let bytes = seal ? SEAL_BYTES : 0;
  for (const l of lead) bytes += l.length + head;
  // A batch's bytes: exact, each line's newline counted in `head`.
  if (isBatch(lines)) bytes += lines.bytes.length + count * (head - 1);
  else for (const l of lines) bytes += l.length + head;
  return bytes;
}

/** Sleeps (Atomics.wait) until the file reaches `size` bytes or `timeoutMs` passes. */
function waitForSize(fs: SyncFs, fd: number, size: number, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (fs.fstatSync(fd).size < size && Date.now() < deadline) Atomics.wait(sleeper, 0, 0, 1);
}

/**
 * Of `lines`, those not already in the file as lines of a batch this writer wrote (the one under
 * way, or one that landed lately): its bytes are read back from where it went.
 */
function notYetWritten(
  fs: SyncFs,
  held: Hold,
  batch: { from: number; bytes: number },
  lines: readonly string[],
): readonly string[] {
  const end = Math.min(held.size, batch.from + batch.bytes);
  if (end <= batch.from) return lines;
  const text = new TextDecoder().decode(readAt(fs, held.fd, batch.from, end - batch.from));
  // Counted, not merely seen: a burst can hold several identical lines (same call site, same ms),
  // and only as many as landed may be skipped.
  const landed = new Map<string, number>();
  for (const written of text.split("\n")) {
    // A chained line is `{"seq":n,"prev":…` then the record's own fields: take the head off.
    const head = /^\{"seq":\d+,"prev":(?:null|"[0-9a-f]{64}")/.exec(written);
    if (!head) continue;
    const rest = written.slice(head[0].length);
    const line = rest === "}" ? "{}" : `{${rest.slice(1)}`;
    landed.set(line, (landed.get(line) ?? 0) + 1);
  }
  return lines.filter((l) => {
    const done = landed.get(l) ?? 0;
    if (done === 0) return true;
    landed.set(l, done - 1);
    return false;
  });
}
