/**
 * `aiguard verify`: checks the report's hash chain (backups oldest first, then the live file) and,
 * with `--key`, its seals; names the first file and line where it breaks.
 *
 * @module
 */
import { type Command, UsageError } from "./command.ts";
import { judgedRead } from "./reports.ts";
import { auditReport } from "../report/audit.ts";
import { readReportFile } from "../report/reader.ts";
import { loadVerifyKey, type VerifyKey } from "../storage/_signing_key.ts";

/** `aiguard verify`. */
export const verifyCommand: Command = {
  name: "verify",
  summary:
    "check the report's hash chain and seals: exit 1 naming the first file and line that breaks",
  usage: `Usage: aiguard verify [--file P] [--key PUB.pem] [--allow-missing]

Walks every rotated backup oldest first, then the live file, and checks each line's seq and prev
(SHA-256 of the line before). An edited, removed, inserted, reordered or truncated line, a line
that is not chained, or a chain whose start is not accounted for (seq 1, or a rotation line saying
what it dropped) is named with its file and line (exit 1). A torn line a later writer recovered
(a crash) is no break: it is named as recovered.

Without --key only the chain is checked: anyone who edits the file can recompute it, so the head
and the tail are unprotected. With --key (an Ed25519 public key, SPKI PEM) every seal must carry
the hash of the line it seals and a valid signature binding this report's id and position, every
chained line must be covered by a later seal and the report must end in one; a tail left unsealed
by a crash is named "unsealed, recovered" (exit 1).
A report cut back to an earlier seal looks like one written only that far: --min-seq N (the last
seq an earlier verify printed) fails a report that ends before N.
A missing or unreadable report exits 2 (--allow-missing goes on without one).`,
  flags: { file: "string", key: "string", "min-seq": "string", "allow-missing": "boolean" },
  async run({ flags, io }) {
    const minSeq = flags["min-seq"] === undefined ? null : Number(flags["min-seq"]);
    if (minSeq !== null && !(Number.isSafeInteger(minSeq) && minSeq > 0)) {
      throw new UsageError("--min-seq must be a positive whole number (a seq)", "verify");
    }
    let key: VerifyKey | null = null;
    if (typeof flags.key === "string") {
      try {
        // Read as reports are: a FIFO or a directory given as the key is refused, not waited on.
        const read = await readReportFile(flags.key);
        if (!("bytes" in read)) {
          const why = "reason" in read ? read.reason : "no such file";
          io.err(`aiguard verify: cannot read the key ${flags.key} (${why})\n`);
          return 2;
        }
        key = await loadVerifyKey(new TextDecoder().decode(read.bytes), flags.key);
      } catch (error) {
        io.err(`aiguard verify: ${(error as Error).message}\n`);
        return 2;
      }
    }
    const found = await judgedRead("verify", flags, io.err);
    if (typeof found === "number") return found;
    if (found.files.length === 0) {
      io.out("aiguard verify: no report (--allow-missing): nothing to verify\n");
      return 0;
    }
    const result = await auditReport(found.lines, key);
    for (const r of result.recovered) {
      io.out(`aiguard verify: recovered torn tail at ${r.file}:${r.line} (a crash, not an edit)\n`);
    }
    if (!result.finding && minSeq !== null && result.lastSeq! < minSeq) {
      const last = found.lines.at(-1)!;
      result.finding = {
        file: last.file,
        line: last.line,
        kind: "broken",
        reason: `the report ends at seq ${result.lastSeq}, before seq ${minSeq} that an earlier ` +
          "verify saw: lines cut from the end",
      };
    }
    if (result.finding) {
      const { file, line, reason, kind } = result.finding;
      io.out(
        `aiguard verify: ${
          kind === "broken" ? "BROKEN" : "UNSEALED"
        } at ${file}:${line}: ${reason}\n`,
      );
      return 1;
    }
    const [untyped] = result.untyped;
    if (untyped) {
      io.out(
        `aiguard verify: ${result.untyped.length} chained line(s) in place are not valid records ` +
          `(first at ${untyped.file}:${untyped.line}); aiguard check fails on them\n`,
      );
    }
    const files = found.files.length;
    io.out(
      `aiguard verify: intact, ${result.chained} chained lines, seq ${result.firstSeq}–` +
        `${result.lastSeq} in ${files} file${files === 1 ? "" : "s"}` +
        (key ? `, ${result.seals} seals verified (key ${key.keyId})` : "") + "\n",
    );
    if (!key) {
      io.out(
        "aiguard verify: without --key the head and the tail are unprotected: lines cut from either " +
          "end, or added with the chain recomputed, cannot be seen" +
          (result.seals ? ` (${result.seals} seals not checked: pass --key PUB.pem)` : "") + "\n",
      );
    }
    return 0;
  },
};
