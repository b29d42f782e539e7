/**
 * `aiguard tail`: follows the report file through rotation, one readable line per record.
 *
 * @module
 */
import { open, stat } from "node:fs/promises";
import process from "node:process";
import { classifyLine, readReportFile } from "../report/reader.ts";
import { type Command, reportPath } from "./command.ts";

/** One readable line for a record line of the report (`null` for any other kind of line). */
export function describeRecord(line: string): string | null {
  const classified = classifyLine(line);
  if (classified.kind !== "record") return null;
  const r = classified.record;
  if (r.event === "dropped") return `${r.ts}  dropped   ${r.count} records`;
  const who = r.attested
    ? `attested${r.attestation?.id ? ` (${r.attestation.id})` : ""}`
    : "UNATTESTED";
  return `${r.ts}  ${r.action.padEnd(8)}  ${who}  ${r.provider} ${r.operation ?? "-"} ${
    r.model ?? "-"
  }  ${r.call_site ?? r.target}`;
}

/** `aiguard tail`. */
export const tailCommand: Command = {
  name: "tail",
  summary: "follow new records, one readable line each",
  usage: `Usage: aiguard tail [--file P]

Follows the report file (through rotation) and prints each new record on one line.`,
  flags: { file: "string", "poll-ms": "string" },
  async run({ flags, io, signal }) {
    const path = reportPath(flags, "tail");
    // A FIFO or a device is refused here, as every command refuses it, before anything is read.
    const first = await readReportFile(path);
    if ("reason" in first) {
      io.err(`aiguard tail: cannot read ${path} (${first.reason}).\n`);
      return 2;
    }
    const pollMs = Number(flags["poll-ms"] ?? 200);
    let offset = await stat(path).then((s) => s.size, () => 0);
    let partial = "";
    const stopped = new Promise<void>((resolve) => {
      signal?.addEventListener("abort", () => resolve());
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
    let running = true;
    void stopped.then(() => (running = false));
    while (running) {
      const size = await stat(path).then((s) => s.size, () => 0);
      if (size < offset) {
        offset = 0; // rotated: the new file starts from the beginning
        partial = "";
      }
      if (size > offset) {
        const handle = await open(path, "r");
        try {
          const buffer = new Uint8Array(size - offset);
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
          offset += bytesRead;
          const text = partial + new TextDecoder().decode(buffer.subarray(0, bytesRead));
          const lines = text.split("\n");
          partial = lines.pop()!;
          for (const line of lines) {
            const shown = describeRecord(line);
            if (shown) io.out(shown + "\n");
          }
        } finally {
          await handle.close();
        }
      }
      await Promise.race([stopped, new Promise((r) => setTimeout(r, pollMs))]);
    }
    return 0;
  },
};
