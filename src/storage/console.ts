/**
 * The `console` storage adapter: one JSON line per record on `console.log`, for edge log drains
 * (Cloudflare Workers Logs, Deno Deploy logs), where no file can be written.
 *
 * @module
 */
import type { StorageAdapter } from "../config.ts";

export type { StorageAdapter };

/**
 * The `console` storage adapter: one JSON line per record on `console.log`, for edge log drains
 * (Cloudflare Workers Logs, Deno Deploy logs).
 *
 * @example
 * ```ts
 * import { createConsoleStorage } from "@aiguard/attest/storage/console";
 *
 * const storage = createConsoleStorage();
 * await storage.append('{"v":1}\n');
 * ```
 */
export function createConsoleStorage(
  log: (line: string) => void = (line) => console.log(line),
): StorageAdapter {
  return {
    name: "console",
    append(lines: string): Promise<void> {
      for (const line of lines.split("\n")) if (line) log(line);
      return Promise.resolve();
    },
    // The console writes as it is called: exit paths can hand it what is pending.
    appendLinesSync(lines: readonly string[]): void {
      for (const line of lines) if (line) log(line);
    },
  };
}
