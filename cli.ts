#!/usr/bin/env -S deno run -A
/**
 * The `aiguard` command line: `report`, `check`, `daemon`, `tail`, `export`.
 *
 * - Deno: `deno run -A jsr:@aiguard/attest/cli report`
 * - Node 22+/Bun: `npx aiguard report`, `bunx aiguard check`
 *
 * @example Gate CI on the report
 * ```ts
 * import { main } from "@aiguard/attest/cli";
 *
 * const code = await main(["check", "--file", "./guard_log.jsonl"]);
 * console.log(code === 0 ? "no unattested AI calls" : "unattested AI calls found");
 * ```
 *
 * @module
 */
import process from "node:process";
import { main } from "./src/cli/main.ts";

export { main };
export type { CliIo } from "./src/cli/main.ts";

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
