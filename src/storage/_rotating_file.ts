/**
 * What the file adapters share: a JSONL file with rotation under a lock file, so several processes
 * never tear, interleave or lose a line. An adapter only supplies how bytes are appended.
 *
 * @module
 */
import type { StorageAdapter } from "../config.ts";
import { builtinModule } from "../runtime.ts";

/** Options of the file storage adapters. */
export interface FileStorageOptions {
  /** The report file, e.g. `~/.aiguard/guard_log.jsonl`. */
  path: string;
  /** Rotate when the next write would pass this size (bytes). Default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept. Default 3. */
  backups?: number;
}

/** The file handle operations the adapters use (node:fs/promises). */
export interface FileHandleLike {
  readonly fd: number;
  write(data: string): Promise<unknown>;
  close(): Promise<void>;
}

/** The node:fs/promises operations used here. */
export interface FsPromises {
  mkdir(path: string, options: { recursive: boolean; mode: number }): Promise<unknown>;
  open(path: string, flags: string, mode?: number): Promise<FileHandleLike>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: boolean }): Promise<void>;
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

async function withLock<T>(fs: FsPromises, lockPath: string, fn: () => Promise<T>): Promise<T> {
  let wait = 1;
  for (;;) {
    try {
      await (await fs.open(lockPath, "wx", 0o600)).close();
      break;
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
  try {
    return await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}

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

/**
 * A rotating JSONL file storage; `write` appends `lines` to a handle opened for appending
 * (mode 0600, in a directory created 0700).
 */
export function createRotatingFileStorage(
  name: string,
  options: FileStorageOptions,
  write: (handle: FileHandleLike, lines: string) => Promise<void>,
): StorageAdapter {
  const { path } = options;
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const backups = options.backups ?? 3;
  const dir = path.slice(0, Math.max(path.lastIndexOf("/"), 0)) || ".";
  let dirReady: Promise<unknown> | null = null;
  return {
    name,
    async append(lines: string): Promise<void> {
      if (!lines) return;
      const fs = fsPromises(name);
      dirReady ??= fs.mkdir(dir, { recursive: true, mode: 0o700 });
      await dirReady;
      const bytes = utf8Length(lines);
      await withLock(fs, `${path}.lock`, async () => {
        const size = await fs.stat(path).then((s) => s.size, () => 0);
        if (size > 0 && size + bytes > maxBytes) await rotate(fs, path, backups);
        const handle = await fs.open(path, "a", 0o600);
        try {
          await write(handle, lines);
        } finally {
          await handle.close();
        }
      });
    },
  };
}
