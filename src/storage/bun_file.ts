/**
 * The `bun-file` storage adapter: the same rotating JSONL file as `node-fs`, written through Bun's
 * `FileSink` (`Bun.file(fd).writer()`) on a descriptor opened for appending. A burst's large
 * batches are written off the main thread instead (see {@link OFF_THREAD_FROM}).
 *
 * @module
 */
import type { StorageAdapter } from "../config.ts";
import {
  createRotatingFileStorage,
  type FileStorageOptions,
  type RotatingFileStorage,
  writeAll,
} from "./_rotating_file.ts";

export type { FileStorageOptions, RotatingFileStorage, StorageAdapter };

interface BunFileSink {
  write(chunk: string | Uint8Array): number;
  flush(): number | Promise<number>;
  end(): number | Promise<number>;
}

/**
 * From this size (characters or bytes) a batch goes through the descriptor's own asynchronous
 * write, on Bun's thread pool, while the queue encodes the next batch. FileSink writes on the main
 * thread, and the encoder waits on large batches; below this size both cost the same
 * (bench/NOTES.md).
 */
const OFF_THREAD_FROM = 256 * 1024;

interface BunGlobal {
  file(fd: number): { writer(): BunFileSink };
}

/**
 * Creates the `bun-file` storage adapter. Throws on other runtimes, naming the adapter to use.
 *
 * @example
 * ```ts
 * import { createBunFileStorage } from "@aiguard/attest/storage/bun-file";
 * import { enableGuard } from "@aiguard/attest";
 *
 * enableGuard({ mode: "report", sinks: ["file"], storage: createBunFileStorage({ path: "./guard.jsonl" }) });
 * ```
 */
export function createBunFileStorage(options: FileStorageOptions): RotatingFileStorage {
  const bun = (globalThis as { Bun?: BunGlobal }).Bun;
  if (!bun) {
    throw new Error("The bun-file storage runs on Bun only; use node-fs on Node and Deno.");
  }
  return createRotatingFileStorage("bun-file", options, async (handle, data) => {
    if (data.length >= OFF_THREAD_FROM) {
      await writeAll(handle, data);
      return;
    }
    // Bun.file(path).writer() truncates; a writer on an O_APPEND descriptor appends.
    const sink = bun.file(handle.fd).writer();
    sink.write(data);
    await sink.flush();
    await sink.end();
  });
}
