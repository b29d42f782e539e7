/**
 * `aiguard coverage [PATH...]`: the scan's static sites joined with the runtime records.
 *
 * @module
 */
import { writeFile } from "node:fs/promises";
import { type Command, since, UsageError } from "./command.ts";
import { sarifDocument, textTable } from "./formats.ts";
import { judgedRecords } from "./reports.ts";
import { sarifResult, terminalProgress } from "./scan_command.ts";
import { scan } from "../scan/scan.ts";
import { type Coverage, coverageHtml, joinCoverage, STATUSES } from "../scan/coverage.ts";
import { RULE_FIX } from "../rule.ts";

const COVERAGE_FORMATS = ["table", "json", "sarif", "html"] as const;

function summaryLine(c: Coverage): string {
  return STATUSES.map((s) => `${c.summary[s]} ${s.replace(/_/g, " ")}`).join(" · ");
}

function render(format: string, c: Coverage): string {
  switch (format) {
    case "json":
      return JSON.stringify(c, null, 2) + "\n";
    case "html":
      return coverageHtml(c);
    case "sarif":
      return sarifDocument(
        c.sites.filter((s) => s.status !== "attested").map((s) =>
          sarifResult(
            {
              file: s.file,
              line: s.line,
              column: s.static?.column ?? 1,
              provider: s.provider,
              library: s.static?.library ?? "runtime",
              target: s.target,
              operation: s.static?.operation ?? null,
              attested: false,
              attestation: null,
              confidence: s.static?.confidence ?? "high",
            },
            `${s.status.replace(/_/g, " ")}: ${s.provider} call (${s.target})` +
              (s.runtime ? `, ${s.runtime.count} calls at runtime` : "") +
              `. ${RULE_FIX}`,
          )
        ),
      );
    default: {
      const rows = c.sites.map((s) => [
        `${s.file}:${s.line}`,
        s.status,
        s.provider,
        s.target,
        String(s.runtime?.count ?? 0),
      ]);
      const lines = rows.length
        ? textTable(["SITE", "STATUS", "PROVIDER", "TARGET", "RUNTIME CALLS"], rows)
        : [];
      return [...lines, summaryLine(c)].join("\n") + "\n";
    }
  }
}

/** `aiguard coverage`. */
export const coverageCommand: Command = {
  name: "coverage",
  summary: "static sites joined with runtime records, per site (table, json, sarif, html)",
  usage:
    `Usage: aiguard coverage [PATH...] [--file P] [--since D] [--format table|json|sarif|html] [--out F]

Joins the AI call sites aiguard scan finds in PATH (default: here) with the records of the report
by file and line: attested, unattested_seen, unattested_unseen (no run reached it), runtime_only
(dynamic code). --format html writes one self-contained page (--out F to write it to a file).
Fails closed like check: a missing or unreadable report exits 2 (--allow-missing to go on).`,
  flags: {
    file: "string",
    since: "string",
    format: "string",
    out: "string",
    include: "strings",
    exclude: "strings",
    "allow-missing": "boolean",
  },
  async run({ flags, positional, io }) {
    const format = (flags.format as string | undefined) ?? "table";
    if (!(COVERAGE_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be one of ${COVERAGE_FORMATS.join(", ")}`, "coverage");
    }
    const sinceMs = since(flags, "coverage");
    const report = await judgedRecords("coverage", flags, io.err);
    if (typeof report === "number") return report;
    const progress = format === "table" && !flags.out
      ? terminalProgress("aiguard coverage:")
      : undefined;
    const result = await scan({
      paths: positional,
      include: flags.include as string[] | undefined ?? [],
      exclude: flags.exclude as string[] | undefined ?? [],
      ...(progress ? { progress } : {}),
    });
    const text = render(format, joinCoverage(result.sites, report.records, sinceMs));
    if (flags.out) {
      await writeFile(flags.out as string, text);
      io.out(`aiguard coverage: wrote ${flags.out}\n`);
    } else io.out(text);
    return 0;
  },
};
