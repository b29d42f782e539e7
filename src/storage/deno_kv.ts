/**
 * The `deno-kv` storage adapter: one KV entry per record, for Deno Deploy (where the file system is
 * read-only) and local Deno with `--unstable-kv`. Entries expire after a retention period and read
 * back in write order; `aiguard export --kv` turns them into JSONL again.
 *
 * @module
 */
import type { StorageAdapter } from "../config.ts";

export type { StorageAdapter };

/** The part of `Deno.Kv` this adapter uses. */
export interface KvLike {
  /** Starts an atomic write. */
  atomic(): {
    set(key: unknown[], value: unknown, options?: { expireIn?: number }): unknown;
    commit(): Promise<{ ok: boolean }>;
  };
  /** Lists entries under a prefix, in key order. */
  list<T>(selector: { prefix: unknown[] }): AsyncIterable<{ key: unknown[]; value: T }>;
  /** Closes the store. */
  close(): void;
}

/** Options of {@link createDenoKvStorage}. */
export interface DenoKvStorageOptions {
  /** An open KV store; by default `Deno.openKv(path)`. */
  kv?: KvLike;
  /** Path of a local KV file (ignored with `kv`); Deno Deploy's default store when absent. */
  path?: string;
  /** Key prefix; default `["aiguard", "records"]`. */
  prefix?: unknown[];
  /** Retention in milliseconds; default 30 days. */
  expireIn?: number;
}

/** The default key prefix of records. */
export const KV_PREFIX: readonly unknown[] = ["aiguard", "records"];

const BATCH = 100;

/** A `deno-kv` storage, with `close()` for the store it opened. */
export interface DenoKvStorage extends StorageAdapter {
  /** Closes the KV store if this adapter opened it. */
  close(): Promise<void>;
}

function openKv(path: string | undefined): Promise<KvLike> {
  const deno = (globalThis as { Deno?: { openKv?: (path?: string) => Promise<KvLike> } }).Deno;
  if (typeof deno?.openKv !== "function") {
    throw new Error(
      "The deno-kv storage needs Deno.openKv (Deno Deploy, or deno run --unstable-kv).",
    );
  }
  return deno.openKv(path);
}

/**
 * Creates the `deno-kv` storage adapter.
 *
 * @example
 * ```ts
 * import { createDenoKvStorage } from "@aiguard/attest/storage/deno-kv";
 * import { enableGuard } from "@aiguard/attest";
 *
 * enableGuard({ mode: "report", sinks: ["file"], storage: createDenoKvStorage() });
 * ```
 */
export function createDenoKvStorage(options: DenoKvStorageOptions = {}): DenoKvStorage {
  const prefix = options.prefix ?? KV_PREFIX;
  const expireIn = options.expireIn ?? 30 * 24 * 60 * 60 * 1000;
  let kv: Promise<KvLike> | null = options.kv ? Promise.resolve(options.kv) : null;
  // Keys sort by time, then by a per-process random id and a counter: ordered, never colliding.
  const writer = crypto.randomUUID();
  let seq = 0;
  return {
    name: "deno-kv",
    async append(lines: string): Promise<void> {
      const store = await (kv ??= openKv(options.path));
      const items = lines.split("\n").filter(Boolean);
      for (let i = 0; i < items.length; i += BATCH) {
        const op = store.atomic();
        const now = Date.now();
        for (const line of items.slice(i, i + BATCH)) {
          op.set([...prefix, now, writer, seq++], line, { expireIn });
        }
        const result = await op.commit();
        if (!result.ok) throw new Error("Deno KV refused the write of aiguard records.");
      }
    },
    async close(): Promise<void> {
      if (!options.kv && kv) (await kv).close();
      kv = null;
    },
  };
}

/**
 * The records kept in a KV store, as JSONL lines in write order.
 *
 * @example
 * ```ts
 * import { readDenoKvLines } from "@aiguard/attest/storage/deno-kv";
 *
 * const kv = await Deno.openKv("./guard.kv");
 * for await (const line of readDenoKvLines(kv)) console.log(line);
 * kv.close();
 * ```
 */
export async function* readDenoKvLines(
  kv: KvLike,
  prefix: readonly unknown[] = KV_PREFIX,
): AsyncGenerator<string> {
  for await (const entry of kv.list<string>({ prefix: [...prefix] })) {
    if (typeof entry.value === "string") yield entry.value;
  }
}
