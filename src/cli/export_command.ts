/**
 * `aiguard export --kv PATH`: the records kept in a Deno KV store, as JSONL on stdout.
 *
 * @module
 */
import { readDenoKvLines } from "../storage/deno_kv.ts";
import { type Command, UsageError } from "./command.ts";

/** `aiguard export`. */
export const exportCommand: Command = {
  name: "export",
  summary: "write the records kept in a Deno KV store as JSONL (--kv PATH)",
  usage: `Usage: aiguard export --kv PATH

Writes the records kept in the Deno KV store at PATH to stdout as JSONL (Deno only).`,
  flags: { kv: "string" },
  async run({ flags, io }) {
    if (!flags.kv) throw new UsageError("export needs --kv PATH", "export");
    const deno = (globalThis as { Deno?: { openKv?: (p: string) => Promise<unknown> } }).Deno;
    if (typeof deno?.openKv !== "function") {
      io.err("aiguard export --kv needs Deno with --unstable-kv (deno run -A --unstable-kv ...)\n");
      return 1;
    }
    const kv = await deno.openKv(flags.kv as string) as Parameters<typeof readDenoKvLines>[0];
    try {
      for await (const line of readDenoKvLines(kv)) io.out(line + "\n");
    } finally {
      kv.close();
    }
    return 0;
  },
};
