/**
 * `aiguard verify`: checks the report's hash chain (backups oldest first, then the live file) and
 * names the first file and line where it breaks.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import type { Command } from "./command.ts";
import { judgedReport, reportTexts } from "./reports.ts";
import { verifyChain } from "../storage/_chain.ts";
import { checkerFromPem } from "../storage/_seal.ts";

/** `aiguard verify`. */
export const verifyCommand: Command = {
  name: "verify",
  summary: "check the report's hash chain: exit 1 naming the first file and line that breaks it",
  usage: `Usage: aiguard verify [--file P] [--key PUB.pem] [--allow-missing]

Walks the rotated backups oldest first, then the live file, and checks each line's seq and prev
(SHA-256 of the line before). An edited, removed, inserted, reordered or truncated line is named
with its file and line (exit 1); an intact chain prints the count and the seq range (exit 0).
The oldest backup dropped by rotation is no break. With --key (an Ed25519 public key, SPKI PEM),
every seal line must carry the hash of the line it seals and a valid signature, and there must be
one. A missing or unreadable report exits 2 (--allow-missing goes on without one).`,
  flags: { file: "string", key: "string", "allow-missing": "boolean" },
  async run({ flags, io }) {
    const found = await judgedReport("verify", flags, io.err, reportTexts, (r) => r.texts.length);
    if (typeof found === "number") return found;
    const files = found.texts;
    const report = verifyChain(files);
    if (report.broken) {
      const { file, line, reason } = report.broken;
      io.out(`aiguard verify: BROKEN at ${file}:${line}: ${reason}\n`);
      return 1;
    }
    let sealNote = "";
    if (flags.key) {
      const keyPath = flags.key as string;
      let checker;
      try {
        checker = await checkerFromPem(await readFile(keyPath, "utf8"), keyPath);
      } catch (error) {
        io.err(`aiguard verify: ${(error as Error).message}\n`);
        return 2;
      }
      if (report.seals.length === 0) {
        io.out("aiguard verify: BROKEN: no seal in the report (was AIGUARD_SIGNING_KEY set?)\n");
        return 1;
      }
      for (const seal of report.seals) {
        const why = !seal.matches
          ? "its hash is not the hash of the line it seals"
          : seal.keyId !== checker.keyId
          ? `signed by key ${seal.keyId}, not by this key (${checker.keyId})`
          : !(await checker.check(seal.report, seal.upto, seal.hash, seal.sig))
          ? "its signature does not verify with this key"
          : null;
        if (why) {
          io.out(
            `aiguard verify: BROKEN at ${seal.file}:${seal.line}: seal of seq ${seal.upto}: ${why}\n`,
          );
          return 1;
        }
      }
      sealNote = `, ${report.seals.length} seals verified (key ${checker.keyId})`;
    }
    io.out(
      `aiguard verify: intact, ${report.lines} chained lines` +
        (report.firstSeq === null ? "" : `, seq ${report.firstSeq}–${report.lastSeq}`) +
        ` in ${files.length} file${files.length === 1 ? "" : "s"}${sealNote}\n`,
    );
    return 0;
  },
};
