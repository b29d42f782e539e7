/**
 * The report's lock file (`<report>.lock`): created exclusively (0600, never through a symlink),
 * holding one JSON line that says who holds it — `{"pid","host","started","ts"}` — so a waiter can
 * tell a live holder (waited for) from a dead one (taken over at once).
 *
 * @module
 */
import { builtinModule } from "../runtime.ts";

/** The node:fs calls the lock (and the report writer) make. */
export interface SyncFs {
  openSync(path: string, flags: number, mode?: number): number;
  closeSync(fd: number): void;
  writeSync(fd: number, data: Uint8Array | string): number;
  readSync(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): number;
  fstatSync(
    fd: number,
  ): { ino: number; size: number; mode: number; uid: number; isFile(): boolean };
  statSync(path: string): { mode: number; uid: number; mtimeMs: number; isDirectory(): boolean };
  lstatSync(path: string): { mtimeMs: number; ino: number };
  mkdirSync(path: string, options: { recursive: boolean; mode: number }): unknown;
  renameSync(from: string, to: string): void;
  linkSync(existing: string, path: string): void;
  unlinkSync(path: string): void;
  constants: Record<string, number>;
}

/** node:fs through `process.getBuiltinModule()`, with a hint where there is none. */
export function syncFs(adapter: string): SyncFs {
  const fs = builtinModule<SyncFs>("node:fs");
  if (!fs?.openSync) {
    throw new Error(
      `The ${adapter} storage needs node:fs (Node, Bun or Deno); on edge runtimes use the console, memory or deno-kv storage.`,
    );
  }
  return fs;
}

interface ProcessLike {
  pid: number;
  kill(pid: number, signal: number): unknown;
}

/** Who holds the lock. */
export interface LockHolder {
  pid: number;
  host: string;
  /** When the holder's process started (ms since the epoch). */
  started: number;
  /** When it took the lock (ms since the epoch). */
  ts: number;
}

/** An empty or unreadable lock file this old is stale: its writer died before saying who it is. */
const UNSIGNED_STALE_MS = 2_000;
/** A lock from another host cannot be checked: after this long it is taken as stale. */
const FOREIGN_STALE_MS = 10_000;
/** Start times compared from /proc agree to the clock tick; elsewhere to the runtime's start. */
const START_TOLERANCE_MS = 1_000;

let bootMs: number | null | undefined;

/**
 * When process `pid` started (ms since the epoch) as Linux says (/proc), or `null` elsewhere. The
 * same reading for the holder and for the waiter, so a reused pid shows as a different start.
 */
function procStart(fs: SyncFs, pid: number): number | null {
  try {
    if (bootMs === undefined) {
      const btime = /^btime (\d+)$/m.exec(readSmall(fs, "/proc/stat"))?.[1];
      bootMs = btime === undefined ? null : Number(btime) * 1000;
    }
    if (bootMs === null) return null;
    const stat = readSmall(fs, `/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces): state is field 3, starttime 22.
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    return Number.isFinite(ticks) ? bootMs + ticks * 10 : null;
  } catch {
    return null;
  }
}

function readSmall(fs: SyncFs, path: string): string {
  const c = fs.constants;
  const fd = fs.openSync(path, c.O_RDONLY! | c.O_NOFOLLOW! | c.O_NONBLOCK!);
  try {
    const buffer = new Uint8Array(4096);
    const n = fs.readSync(fd, buffer, 0, buffer.length, 0);
    return new TextDecoder().decode(buffer.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}

let self: { pid: number; host: string; started: number } | null = null;

function whoAmI(fs: SyncFs): { pid: number; host: string; started: number } {
  if (self === null) {
    const proc = builtinModule<ProcessLike>("node:process");
    const os = builtinModule<{ hostname(): string }>("node:os");
    const pid = proc?.pid ?? 0;
    self = {
      pid,
      host: os?.hostname() ?? "",
      started: procStart(fs, pid) ?? Math.round(performance.timeOrigin),
    };
  }
  return self;
}

/** Whether the holder named in a lock file's text is gone (or the lock is stale for want of one). */
function holderGone(fs: SyncFs, text: string, mtimeMs: number): boolean {
  let holder: Partial<LockHolder> | null = null;
  try {
    holder = JSON.parse(text);
  } catch {
    // not (yet) written
  }
  if (!holder || typeof holder.pid !== "number" || typeof holder.host !== "string") {
    return Date.now() - mtimeMs > UNSIGNED_STALE_MS;
  }
  const me = whoAmI(fs);
  if (holder.host !== me.host) return Date.now() - mtimeMs > FOREIGN_STALE_MS;
  if (!Number.isSafeInteger(holder.pid) || holder.pid <= 0) return true;
  try {
    builtinModule<ProcessLike>("node:process")?.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: alive, another user's.
    if ((error as { code?: string }).code === "ESRCH") return true;
  }
  // The pid is alive: the holder, unless the pid was reused by a process started since.
  const started = procStart(fs, holder.pid);
  return started !== null && typeof holder.started === "number" &&
    Math.abs(started - holder.started) > START_TOLERANCE_MS;
}

/** What a held lock needs to be released: its path, and the inode that makes it this writer's. */
export interface HeldLock {
  path: string;
  /** A lock taken over by another writer is another file: never removed by this one. */
  ino: number;
}

let takeovers = 0;

/**
 * One attempt: creates the lock file, or takes over a stale one and tries again. `null` while a
 * live holder has it.
 */
export function tryLock(fs: SyncFs, path: string): HeldLock | null {
  const c = fs.constants;
  const me = whoAmI(fs);
  for (let attempt = 0; attempt < 3; attempt++) {
    const text = `${JSON.stringify({ ...me, ts: Date.now() })}\n`;
    let fd: number;
    try {
      fd = fs.openSync(path, c.O_WRONLY! | c.O_CREAT! | c.O_EXCL! | c.O_NOFOLLOW!, 0o600);
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
      if (!takeOverStale(fs, path)) return null;
      continue;
    }
    try {
      fs.writeSync(fd, text);
      return { path, ino: fs.fstatSync(fd).ino };
    } finally {
      fs.closeSync(fd);
    }
  }
  return null;
}

/**
 * Moves a lock whose holder is gone out of the way. Race-free between waiters: the lock is renamed
 * to a name of this waiter's own, and only removed if what was renamed is what was judged stale;
 * a live lock renamed by mistake (another waiter took over in between) is put back.
 */
function takeOverStale(fs: SyncFs, path: string): boolean {
  const c = fs.constants;
  let text: string;
  let mtimeMs: number;
  try {
    const fd = fs.openSync(path, c.O_RDONLY! | c.O_NOFOLLOW! | c.O_NONBLOCK!);
    try {
      const st = fs.fstatSync(fd) as unknown as { mtimeMs: number; size: number };
      mtimeMs = st.mtimeMs;
      const buffer = new Uint8Array(Math.min(st.size, 4096));
      text = new TextDecoder().decode(
        buffer.subarray(0, fs.readSync(fd, buffer, 0, buffer.length, 0)),
      );
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    // Gone (released): try again at once.
    if ((error as { code?: string }).code === "ENOENT") return true;
    // A symlink (or worse) at the lock path says nobody's name: stale once 2 s old, like an
    // empty lock; renaming it moves the link, never its target.
    try {
      text = "";
      mtimeMs = fs.lstatSync(path).mtimeMs;
    } catch {
      return true;
    }
  }
  if (!holderGone(fs, text, mtimeMs)) return false;
  const aside = `${path}.stale.${whoAmI(fs).pid}.${++takeovers}.${Date.now()}`;
  try {
    fs.renameSync(path, aside);
  } catch {
    return true; // someone else moved it first: try to create it again
  }
  let moved = "";
  try {
    moved = readSmall(fs, aside);
  } catch {
    // unreadable: judged as it was
    moved = text;
  }
  if (moved !== text) {
    // Another waiter took over and created a live lock, which this one moved: put it back.
    try {
      fs.linkSync(aside, path);
    } catch {
      // a third writer holds it now; the one we moved finds its lock gone when it releases
    }
  }
  try {
    fs.unlinkSync(aside);
  } catch {
    // already gone
  }
  return moved === text;
}

/** Removes the lock if it is still this writer's (never another's that took over a stale one). */
export function unlock(fs: SyncFs, lock: HeldLock): void {
  try {
    if (fs.lstatSync(lock.path).ino === lock.ino) fs.unlinkSync(lock.path);
  } catch {
    // gone already
  }
}

/**
 * A pause; one that does not keep the process alive unless `keepAlive` (see `FileStorageOptions`:
 * a holder stopped by Ctrl-Z or a breakpoint would otherwise keep a guarded app from ending).
 */
function pause(ms: number, keepAlive: boolean): Promise<void> {
  return new Promise((resolve) => {
    const timer: unknown = setTimeout(resolve, ms);
    if (keepAlive) return;
    if (typeof timer === "number") {
      (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno?.unrefTimer?.(timer);
    } else (timer as { unref?(): void } | null)?.unref?.();
  });
}

/**
 * Takes the lock, waiting for a live holder (async: the event loop runs while it waits; the wait
 * keeps the process alive only if `keepAlive`).
 */
export async function lock(fs: SyncFs, path: string, keepAlive = true): Promise<HeldLock> {
  let wait = 1;
  for (;;) {
    const held = tryLock(fs, path);
    if (held) return held;
    await pause(wait, keepAlive);
    wait = Math.min(wait * 2, 50);
  }
}

/**
 * Takes the lock synchronously (exit paths), sleeping with `Atomics.wait` between attempts; gives
 * up after `timeoutMs` and returns `null`.
 */
export function lockSync(fs: SyncFs, path: string, timeoutMs: number): HeldLock | null {
  const deadline = Date.now() + timeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let wait = 1;
  for (;;) {
    const held = tryLock(fs, path);
    if (held) return held;
    const left = deadline - Date.now();
    if (left <= 0) return null;
    Atomics.wait(sleeper, 0, 0, Math.min(wait, left));
    wait = Math.min(wait * 2, 50);
  }
}
