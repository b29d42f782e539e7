/**
 * The `node-fs` storage adapter: appends JSONL to a file with rotation, through `node:fs` (Node,
 * Bun, and Deno with write permission). Rotation and appends run under a lock file, so several
 * processes never tear, interleave or lose a line.
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

/**
 * Creates the `node-fs` storage adapter.
 *
 * @example
 * ```ts
 * import { createNodeFsStorage } from "@aiguard/attest/storage/node-fs";
 * import { enableGuard } from "@aiguard/attest";
 *
 * enableGuard({ mode: "report", sinks: ["file"], storage: createNodeFsStorage({ path: "./guard.jsonl" }) });
 * ```
 */
export function createNodeFsStorage(options: FileStorageOptions): RotatingFileStorage {
  return createRotatingFileStorage("node-fs", options, writeAll);
}
