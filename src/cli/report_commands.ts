/**
 * `aiguard report` and `aiguard check`: unattested calls grouped by call site, for people and for
 * the CI gate (which fails closed).
 *
 * @module
 */
import { type Command, reportPath, since, UsageError } from "./command.ts";
import { FORMATS, render, type ReportFormat } from "./formats.ts";
import { groupBySite, judgedRecords, readReports } from "./reports.ts";

/** `aiguard report`. */
export const reportCommand: Command = {
  name: "report",
  summary: "unattested calls grouped by call site (table, json, markdown, sarif)",
  usage: `Usage: aiguard report [--file P] [--since 24h] [--format table|json|markdown|sarif]

Unattested AI calls grouped by call site: count, providers, models, first and last seen,
newest first. Reads the report file and its rotated backups.`,
  flags: { file: "string", since: "string", format: "string" },
  async run({ flags, io }) {
    const format = (flags.format ?? "table") as ReportFormat;
    if (!FORMATS.includes(format)) {
      throw new UsageError(`--format must be one of ${FORMATS.join(", ")}`, "report");
    }
    const sinceMs = since(flags, "report");
    const { records, skipped } = await readReports(reportPath(flags));
    io.out(render(format, groupBySite(records, sinceMs), skipped));
    return 0;
  },
};

/** `aiguard check`: 1 while unattested call sites remain; 2 when there is no report to judge. */
export const checkCommand: Command = {
  name: "check",
  summary: "the CI gate: exit 1 if any unattested call site is in the report",
  usage: `Usage: aiguard check [--file P] [--since D] [--allow-missing]

Lists unattested call sites; exits 1 if there is any, 0 if there is none. Fails closed: a report
that is missing or unreadable exits 2 (a gate that passes when the guard never wrote anything
proves nothing); --allow-missing passes on a missing report. An empty report that exists passes.`,
  flags: { file: "string", since: "string", "allow-missing": "boolean" },
  async run({ flags, io }) {
    const sinceMs = since(flags, "check");
    const report = await judgedRecords("check", flags, io.err);
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
