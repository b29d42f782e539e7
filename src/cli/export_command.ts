/**
 * `aiguard export`: the records kept in a Deno KV store as JSONL (`--kv PATH`), or the AI bill of
 * materials as CycloneDX 1.6 JSON (`--format cyclonedx`, from the report and, with `--scan`, the
 * static sites).
 *
 * @module
 */
import { readDenoKvLines } from "../storage/deno_kv.ts";
import { buildAiBom } from "../report/aibom.ts";
import { type Command, UsageError } from "./command.ts";
import { judgedRecords } from "./reports.ts";
import { scan } from "../scan/scan.ts";

/** `aiguard export`. */
export const exportCommand: Command = {
  name: "export",
  summary: "Deno KV records as JSONL (--kv PATH), or the AI-BOM (--format cyclonedx)",
  usage: `Usage: aiguard export --kv PATH
       aiguard export --format cyclonedx [--file P] [--scan PATH] [--allow-missing]

--kv: writes the records kept in the Deno KV store at PATH to stdout as JSONL (Deno only).
--format cyclonedx: the AI bill of materials (CycloneDX 1.6 JSON) of the providers called
(services, with endpoints), the models used (machine-learning-model components) and their call
sites (evidence.occurrences), from the report; --scan PATH adds the sites aiguard scan finds.
A missing report exits 2 (--allow-missing: the BOM of the scan alone).`,
  flags: {
    kv: "string",
    format: "string",
    file: "string",
    scan: "strings",
    "allow-missing": "boolean",
  },
  async run({ flags, io }) {
    if (flags.format !== undefined) {
      if (flags.format !== "cyclonedx") {
        throw new UsageError("--format must be cyclonedx", "export");
      }
      const report = await judgedRecords("export", flags, io.err);
      if (typeof report === "number") return report;
      const scanPaths = flags.scan as string[] | undefined;
      const sites = scanPaths?.length ? (await scan({ paths: scanPaths })).sites : [];
      io.out(JSON.stringify(buildAiBom(report.records, sites), null, 2) + "\n");
      return 0;
    }
    if (!flags.kv) throw new UsageError("export needs --kv PATH or --format cyclonedx", "export");
    const deno = (globalThis as { Deno?: { openKv?: (p: string) => Promise<unknown> } }).Deno;
    if (typeof deno?.openKv !== "function") {
      io.err("aiguard export --kv needs Deno with --unstable-kv (deno run -A --unstable-kv ...)\n");
      return 2;
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
