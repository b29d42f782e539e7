/**
 * What `aiguard verify` checks, over the lines the reader classified (backups oldest first, then
 * the live file): the hash chain, how it starts, crash recoveries, and — with a public key — the
 * seals: every chained line covered by a later seal, the report ending in one, every seal and head
 * line of one report id, every signature valid.
 *
 * @module
 */
import { isRecoveredFragment, lineHash, type ReportLine } from "./reader.ts";
import { sealMessage } from "../storage/_seal.ts";
import type { VerifyKey } from "../storage/_signing_key.ts";

/** Where and why a report is not intact. */
export interface AuditFinding {
  file: string;
  /** 1-based line in that file. */
  line: number;
  reason: string;
  /**
   * `broken`: edited, removed, inserted, forged or cut; `unsealed_recovered`: a tail after a crash
   * recovery that no seal covers (a writer crashed before it sealed: named as a crash).
   */
  kind: "broken" | "unsealed_recovered";
}

/** What {@link auditReport} found. */
export interface AuditResult {
  /** The first finding, or `null` when the report is intact. */
  finding: AuditFinding | null;
  /** Chained lines checked. */
  chained: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Seal lines met (verified when a key was given). */
  seals: number;
  /** The report id its head lines and seals carry, if any. */
  reportId: string | null;
  /** Torn fragments a later writer recovered (a crash, not tampering). */
  recovered: Array<{ file: string; line: number }>;
  /** Chained lines in place whose content is not a valid record (check fails on them). */
  untyped: Array<{ file: string; line: number }>;
}

/** How far back (lines) a seal may point: writers seal the line right before the seal. */
const SEAL_REACH = 4096;

interface At {
  file: string;
  line: number;
}

const at = (l: ReportLine): At => ({ file: l.file, line: l.line });

/**
 * Checks a report's lines. Without `key`, the chain alone: every line chained and in order, the
 * chain's start accounted for, crash recoveries told apart from edits. With `key`, also the seals.
 *
 * @example Verify a report with its public key
 * ```ts
 * import { readReport } from "./reader.ts";
 * import { auditReport } from "./audit.ts";
 * import { loadVerifyKey } from "../storage/_signing_key.ts";
 *
 * const { lines } = await readReport("./guard_log.jsonl");
 * const key = await loadVerifyKey(await Deno.readTextFile("pub.pem"), "pub.pem");
 * const { finding } = await auditReport(lines, key);
 * console.log(finding ? `broken at ${finding.file}:${finding.line}` : "intact");
 * ```
 */
export async function auditReport(
  lines: readonly ReportLine[],
  key: VerifyKey | null,
): Promise<AuditResult> {
  const result: AuditResult = {
    finding: null,
    chained: 0,
    firstSeq: null,
    lastSeq: null,
    seals: 0,
    reportId: null,
    recovered: [],
    untyped: [],
  };
  const fail = (where: At, reason: string, kind: AuditFinding["kind"] = "broken") => {
    result.finding = { ...where, reason, kind };
    return result;
  };
  let prev: { seq: number; hash: string; at: At } | null = null;
  let first: ReportLine | null = null;
  let newestRotation: { droppedUpto: number | null; at: At } | null = null;
  let idAt: At | null = null;
  // Highest seq a valid seal accounts for, and the newest recovered line.
  let covered = 0;
  let lastRecovery: { seq: number; at: At } | null = null;
  let lastIsSeal = false;
  const recent = new Map<number, string>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (isRecoveredFragment(lines, i)) {
      result.recovered.push(at(line));
      continue;
    }
    if (!line.terminated) {
      return fail(
        at(line),
        key
          ? "unsealed, torn tail: the last line is cut short (a writer crashed mid-write; the next " +
            "writer recovers it)"
          : "the last line is cut short (truncated, or a writer crashed mid-write)",
      );
    }
    if (line.kind === "malformed" && line.chain === null) return fail(at(line), line.reason);
    if (line.kind === "malformed") result.untyped.push(at(line));
    if (line.kind === "blank") return fail(at(line), "an empty line inside the report (inserted)");
    if (line.chain === null) {
      return fail(at(line), "a line without seq and prev: not part of the chain (inserted)");
    }
    const { seq } = line.chain;
    const hash = lineHash(line)!;
    if (prev === null) {
      first = line;
      result.firstSeq = seq;
      if (seq === 1 && line.chain.prev !== null) {
        return fail(at(line), "seq 1 has a prev: it is not the start of a chain");
      }
    } else if (seq !== prev.seq + 1) {
      return fail(
        at(line),
        seq > prev.seq + 1
          ? `seq ${seq} follows seq ${prev.seq}: ${seq - prev.seq - 1} line(s) removed here, ` +
            "or lines reordered"
          : `seq ${seq} follows seq ${prev.seq}: lines reordered, duplicated or inserted`,
      );
    } else if (line.chain.prev !== prev.hash) {
      // The line before no longer hashes to what this one recorded: it was edited (or this
      // line's prev was).
      return fail(prev.at, `seq ${prev.seq}: edited (its hash is not the prev of seq ${seq})`);
    }
    if (
      line.kind === "chain_start" || line.kind === "rotated" || line.kind === "report_id" ||
      (line.kind === "seal" && line.report !== null)
    ) {
      if (result.reportId === null) {
        result.reportId = line.report;
        idAt = at(line);
      } else if (line.report !== result.reportId) {
        return fail(
          at(line),
          `${line.kind === "seal" ? "a seal" : `a ${line.kind} line`} of report ${line.report}, ` +
            `in report ${result.reportId} (${idAt!.file}:${
              idAt!.line
            }): spliced from another report`,
        );
      }
    }
    switch (line.kind) {
      case "chain_start":
        if (prev !== null) return fail(at(line), "a chain_start line inside the chain (spliced)");
        break;
      case "rotated":
        if (line.line !== 1) {
          return fail(at(line), "a rotated line that is not the first line of its file");
        }
        newestRotation = { droppedUpto: line.droppedUpto, at: at(line) };
        break;
      case "recovered":
        if (prev !== null && line.afterSeq !== prev.seq) {
          return fail(
            at(line),
            `a recovered line after seq ${line.afterSeq} that follows seq ${prev.seq}`,
          );
        }
        lastRecovery = { seq, at: at(line) };
        break;
      case "seal": {
        result.seals++;
        const sealed = recent.get(line.upto);
        const why = line.upto >= seq
          ? `it seals seq ${line.upto}, which is not before it`
          : sealed === undefined
          ? `it seals seq ${line.upto}, which is not among the ${SEAL_REACH} lines before it`
          : sealed !== line.hash
          ? "its hash is not the hash of the line it seals"
          : null;
        if (why) return fail(at(line), `seal of seq ${line.upto}: ${why}`);
        if (key) {
          const problem = line.report === null
            ? "it names no report id (a seal of an older format binds no report)"
            : line.keyId !== key.keyId
            ? `signed by key ${line.keyId}, not by this key (${key.keyId})`
            : !(await key.verify(sealMessage(line.report, line.upto, line.hash), line.sig))
            ? "its signature does not verify with this key"
            : null;
          if (problem) return fail(at(line), `seal of seq ${line.upto}: ${problem}`);
        }
        // A seal of the line right before it leaves nothing up to itself unsealed.
        covered = Math.max(covered, line.upto === seq - 1 ? seq : line.upto);
        break;
      }
    }
    lastIsSeal = line.kind === "seal";
    recent.set(seq, hash);
    recent.delete(seq - SEAL_REACH);
    prev = { seq, hash, at: at(line) };
    result.chained++;
    result.lastSeq = seq;
  }
  if (prev === null || first === null) {
    const where = lines[0] ? at(lines[0]) : { file: "(report)", line: 0 };
    return fail(where, "no chained line: nothing in this report can be verified");
  }
  // The start: seq 1, or a rotation that says what it dropped, right before what is kept.
  if (first.chain!.seq !== 1) {
    const seq = first.chain!.seq;
    if (first.kind !== "rotated") {
      return fail(
        at(first),
        `the chain starts at seq ${seq} with no head line: seq 1–${seq - 1} are gone and no ` +
          "rotation says it dropped them (head removed?)",
      );
    }
    const dropped = newestRotation!.droppedUpto;
    if (dropped === null || seq !== dropped + 1) {
      return fail(
        at(first),
        `the chain starts at seq ${seq}, but the newest rotation (${newestRotation!.at.file}:` +
          `${newestRotation!.at.line}) dropped ${
            dropped === null ? "nothing" : `up to seq ${dropped}`
          }: ${
            dropped === null || dropped + 1 < seq
              ? "lines between are missing (a backup removed?)"
              : "the kept lines overlap what was dropped"
          }`,
      );
    }
  }
  if (key) {
    const last = prev;
    if (!lastIsSeal || covered < last.seq) {
      const from = covered + 1;
      const range = from === last.seq ? `seq ${from}` : `seq ${from}–${last.seq}`;
      if (lastRecovery !== null && lastRecovery.seq > covered) {
        return fail(
          lastRecovery.at,
          `unsealed, recovered: ${range} after this crash recovery are covered by no seal (a ` +
            "writer crashed before sealing)",
          "unsealed_recovered",
        );
      }
      return fail(
        last.at,
        `${range} covered by no seal: the report does not end in a seal (lines appended, or the ` +
          "seals after them removed)",
      );
    }
  }
  return result;
}
