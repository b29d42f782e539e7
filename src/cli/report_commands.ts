/**
 * `aiguard report` and `aiguard check`: unattested calls grouped by call site, for people and for
 * the CI gate (which fails closed).
 *
 * @module
 */
import { type Command, since, UsageError } from "./command.ts";
import { FORMATS, render, type ReportFormat } from "./formats.ts";
import { groupBySite, judgedRead } from "./reports.ts";

/** `aiguard report`. */
export const reportCommand: Command = {
  name: "report",
  summary: "unattested calls grouped by call site (table, json, markdown, sarif)",
  usage:
    `Usage: aiguard report [--file P] [--since 24h] [--format table|json|markdown|sarif] [--allow-missing]

Unattested AI calls grouped by call site: count, providers, models, first and last seen,
newest first. Reads the report file and every rotated backup of it; malformed lines are counted.
A missing or unreadable report exits 2, as check does (--allow-missing goes on without one).`,
  flags: { file: "string", since: "string", format: "string", "allow-missing": "boolean" },
  async run({ flags, io }) {
    const format = (flags.format ?? "table") as ReportFormat;
    if (!FORMATS.includes(format)) {
      throw new UsageError(`--format must be one of ${FORMATS.join(", ")}`, "report");
    }
    const sinceMs = since(flags, "report");
    const report = await judgedRead("report", flags, io.err);
    if (typeof report === "number") return report;
    const { records, skipped } = report;
    io.out(render(format, groupBySite(records, sinceMs), skipped));
    return 0;
  },
};

/** `aiguard check`: 1 while unattested call sites remain; 2 when there is no report to judge. */
export const checkCommand: Command = {
  name: "check",
  summary: "the CI gate: exit 1 if any unattested call site is in the report",
  usage: `Usage: aiguard check [--file P] [--since D] [--allow-missing] [--allow-malformed]

Lists unattested call sites; exits 1 if there is any, 0 if there is none. Fails closed with exit 2:
a report that is missing or unreadable, or not a regular file (a gate that passes when the guard
never wrote anything proves nothing), and malformed lines that no recovery line explains (an
unreadable line may be the unattested call). --allow-missing passes on a missing report;
--allow-malformed skips (and counts) malformed lines. An empty report that exists passes.`,
  flags: {
    file: "string",
    since: "string",
    "allow-missing": "boolean",
    "allow-malformed": "boolean",
  },
  async run({ flags, io }) {
    const sinceMs = since(flags, "check");
    const report = await judgedRead("check", flags, io.err, { failOnMalformed: true });
    if (typeof report === "number") return report;
    const { records, skipped } = report;
    const groups = groupBySite(records, sinceMs);
    if (groups.length === 0) {
      io.out(
        `aiguard check: no unattested AI calls${
          skipped ? ` (${skipped} malformed lines skipped)` : ""
        }\n`,
      );
      return 0;
    }
    io.out(render("table", groups, skipped));
    io.out("aiguard check: failed — wrap these call sites with attest() once they are reviewed.\n");
    return 1;
  },
};
