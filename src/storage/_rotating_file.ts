/**
 * What the file adapters share: a JSONL file with rotation under a lock file, so several processes
 * never tear, interleave or lose a line. An adapter only supplies how bytes are appended.
 *
 * @module
 */
import type { StorageAdapter } from "../config.ts";
import { builtinModule } from "../runtime.ts";
import { chainLines, type ChainState, lastLine, stateAfter } from "./_chain.ts";
import { type Sealer, sealerFromPem } from "./_seal.ts";

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
   * Path of an Ed25519 private key (PKCS#8 PEM): a signed seal line follows every batch
   * (`AIGUARD_SIGNING_KEY`).
   */
  signingKey?: string;
}

/** The file handle operations the adapters use (node:fs/promises). */
export interface FileHandleLike {
  readonly fd: number;
  write(data: string | Uint8Array): Promise<unknown>;
  read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** The node:fs/promises operations used here. */
export interface FsPromises {
  mkdir(path: string, options: { recursive: boolean; mode: number }): Promise<unknown>;
  open(path: string, flags: string, mode?: number): Promise<FileHandleLike>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: boolean }): Promise<void>;
  readFile(path: string, encoding: "utf8"): Promise<string>;
  stat(path: string): Promise<{ size: number; mtimeMs: number }>;
}

/** node:fs/promises through `process.getBuiltinModule()`, with a hint where there is none. */
export function fsPromises(adapter: string): FsPromises {
  const fs = builtinModule<{ promises?: FsPromises }>("node:fs");
  if (!fs?.promises) {
    throw new Error(
      `The ${adapter} storage needs node:fs (Node, Bun or Deno); on edge runtimes use the console, memory or deno-kv storage.`,
    );
  }
  return fs.promises;
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

const LOCK_STALE_MS = 10_000;

/** Takes the lock file: created exclusively, removed to release it. */
async function takeLock(fs: FsPromises, lockPath: string): Promise<FileHandleLike> {
  let wait = 1;
  for (;;) {
    try {
      return await fs.open(lockPath, "wx", 0o600);
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
      try {
        const { mtimeMs } = await fs.stat(lockPath);
        // A writer that died while holding the lock must not stop every other writer.
        if (Date.now() - mtimeMs > LOCK_STALE_MS) await fs.rm(lockPath, { force: true });
      } catch {
        // gone already
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 50);
    }
  }
}

/** A writer's hold on the file: the lock, the report opened for appending, and its size. */
interface Hold {
  lock: FileHandleLike;
  handle: FileHandleLike;
  size: number;
  since: number;
}

/**
 * How long a writer may keep the lock for its next batch when that batch is already waiting (a
 * burst): lock, size and open file then carry over, instead of one round trip each per batch.
 */
const HOLD_MS = 50;

async function rotate(fs: FsPromises, path: string, backups: number): Promise<void> {
  if (backups === 0) {
    await fs.rm(path, { force: true });
    return;
  }
  await fs.rm(backupName(path, backups), { force: true });
  for (let n = backups - 1; n >= 1; n--) {
    await fs.rename(backupName(path, n), backupName(path, n + 1)).catch(() => {});
  }
  await fs.rename(path, backupName(path, 1)).catch(() => {});
}

/** A file's last line is within its last 64 KiB (records are capped far below that). */
const TAIL_BYTES = 64 * 1024;

async function tailOf(fs: FsPromises, path: string): Promise<string | null> {
  let handle: FileHandleLike;
  try {
    handle = await fs.open(path, "r");
  } catch {
    return null;
  }
  try {
    const size = (await fs.stat(path)).size;
    if (size === 0) return null;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = new Uint8Array(length);
    const { bytesRead } = await handle.read(buffer, 0, length, size - length);
    return new TextDecoder().decode(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** Where the chain stands in the file (or, when it is empty, in its newest backup). */
async function readChain(fs: FsPromises, path: string): Promise<ChainState> {
  for (const file of [path, backupName(path, 1)]) {
    const tail = await tailOf(fs, file);
    const line = tail === null ? null : lastLine(tail);
    if (line !== null) return stateAfter(line);
  }
  return { seq: 0, hash: null };
}

/**
 * A rotating JSONL file storage; `write` appends the batch to a handle opened for appending
 * (mode 0600, in a directory created 0700). Lines are chained (`seq`, `prev`) under the lock, so
 * writers in several processes keep one chain.
 */
export function createRotatingFileStorage(
  name: string,
  options: FileStorageOptions,
  write: (handle: FileHandleLike, data: string | Uint8Array) => Promise<void>,
): StorageAdapter {
  const { path } = options;
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const backups = options.backups ?? 3;
  const dir = path.slice(0, Math.max(path.lastIndexOf("/"), 0)) || ".";
  let dirReady: Promise<unknown> | null = null;
  const chain = options.chain ?? true;
  // What this writer last left in the file: when the file is as it left it, the chain need not
  // be read back.
  let known: { size: number; state: ChainState } | null = null;
  let sealer: Promise<Sealer | null> | null = null;
  const loadSealer = (fs: FsPromises): Promise<Sealer | null> =>
    sealer ??= fs.readFile(options.signingKey!, "utf8")
      .catch(() => {
        throw new Error(`The signing key at ${options.signingKey} cannot be read.`);
      })
      .then((pem) => sealerFromPem(pem, options.signingKey!))
      .catch((error: Error) => {
        // Evidence unsealed beats evidence lost: say so once, write on without seals.
        console.warn(`aiguard: ${error.message} Records are written without seals.`);
        return null;
      });
  const scratch = {};
  const lockPath = `${path}.lock`;
  let hold: Hold | null = null;
  // Batches land one after another, in the order they were handed over.
  let turn: Promise<void> = Promise.resolve();
  let waiting = 0;

  const take = async (fs: FsPromises): Promise<Hold> => {
    const lock = await takeLock(fs, lockPath);
    try {
      // Opened for appending while its size is read; reopened only when it rotates.
      const [before, handle] = await Promise.all([
        fs.stat(path).catch(() => null),
        fs.open(path, "a", 0o600),
      ]);
      return { lock, handle, size: before?.size ?? 0, since: Date.now() };
    } catch (error) {
      await Promise.all([lock.close(), fs.rm(lockPath, { force: true })]).catch(() => {});
      throw error;
    }
  };
  const release = (fs: FsPromises, { lock, handle }: Hold): Promise<unknown> =>
    Promise.all([handle.close(), lock.close(), fs.rm(lockPath, { force: true })]);

  const land = async (lines: readonly string[], onWrite?: () => void): Promise<void> => {
    const fs = fsPromises(name);
    dirReady ??= fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await dirReady;
    const held = hold ??= await take(fs);
    try {
      let data: string | Uint8Array;
      let bytes: number;
      let after: ChainState | null = null;
      if (chain) {
        // Another writer's append (or rotation) since ours changes the size: then read it back.
        const state = known && held.size === known.size ? known.state : await readChain(fs, path);
        let chained = chainLines(lines, state, scratch);
        const seal = options.signingKey && chained.state.hash !== null
          ? await loadSealer(fs)
          : null;
        if (seal) {
          const sealLine = await seal.seal(chained.state.seq, chained.state.hash!);
          const sealed = chainLines([sealLine], chained.state);
          const both = new Uint8Array(chained.bytes.length + sealed.bytes.length);
          both.set(chained.bytes);
          both.set(sealed.bytes, chained.bytes.length);
          chained = { bytes: both, state: sealed.state };
        }
        data = chained.bytes;
        bytes = data.length;
        after = chained.state;
      } else {
        data = `${lines.join("\n")}\n`;
        bytes = utf8Length(data);
      }
      if (held.size > 0 && held.size + bytes > maxBytes) {
        await held.handle.close();
        await rotate(fs, path, backups);
        held.handle = await fs.open(path, "a", 0o600);
        held.size = 0;
      }
      known = null; // until this write is known to have landed
      const writing = write(held.handle, data);
      onWrite?.(); // the caller may prepare its next batch while this one is written
      await writing;
      held.size += bytes;
      if (after) known = { size: held.size, state: after };
    } catch (error) {
      hold = null;
      await release(fs, held).catch(() => {});
      throw error;
    }
    // Keep the hold for this writer's next batch if it is already waiting, for a short while.
    if (waiting === 0 || Date.now() - held.since > HOLD_MS) {
      hold = null;
      await release(fs, held);
    }
  };

  const appendLines = (lines: readonly string[], onWrite?: () => void): Promise<void> => {
    if (lines.length === 0) return Promise.resolve();
    waiting++;
    const landed = turn.then(() => {
      waiting--;
      return land(lines, onWrite);
    });
    turn = landed.catch(() => {});
    return landed;
  };
  return {
    name,
    append: (text) => appendLines(text.split("\n").filter((line) => line !== "")),
    appendLines,
  };
}
