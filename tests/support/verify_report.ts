/**
 * The chain check tests run on reports they wrote: the same reader and audit as `aiguard verify`
 * (without a key), so a test that calls a report intact means what a user's verify would say.
 *
 * @module
 */
import { auditReport } from "../../src/report/audit.ts";
import { classifyBytes } from "../../src/report/reader.ts";

/** What the audit found, in the shape the tests assert on. */
export interface ChainCheck {
  /** The first finding (file, line, reason), or `null` when the report is intact. */
  broken: { file: string; line: number; reason: string } | null;
  /** Chained lines checked. */
  lines: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Torn fragments a later writer recovered. */
  recovered: Array<{ file: string; line: number }>;
}

/** Audits report files given oldest first (backups, then the live file) as `aiguard verify` does. */
export async function verifyChain(
  files: ReadonlyArray<{ file: string; text: string }>,
): Promise<ChainCheck> {
  const encoder = new TextEncoder();
  const lines = files.flatMap(({ file, text }) => classifyBytes(file, encoder.encode(text)));
  const audit = await auditReport(lines, null);
  return {
    broken: audit.finding,
    lines: audit.chained,
    firstSeq: audit.firstSeq,
    lastSeq: audit.lastSeq,
    recovered: audit.recovered,
  };
}
