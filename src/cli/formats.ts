/**
 * Output formats of `aiguard report`: a terminal table, JSON, Markdown (for PR comments) and
 * SARIF 2.1.0 (one result per call site, so code scanning shows it on the line).
 *
 * @module
 */
import { RULE_FIX, RULE_ID } from "../rule.ts";
import { VERSION } from "../version.ts";
import { splitCallSite } from "../detect/call_site.ts";
import type { SiteGroup } from "./reports.ts";

/** Report formats. */
export type ReportFormat = "table" | "json" | "markdown" | "sarif";
/** All report formats. */
export const FORMATS: readonly ReportFormat[] = ["table", "json", "markdown", "sarif"];

function summary(groups: SiteGroup[], skipped: number): string {
  const calls = groups.reduce((n, g) => n + g.count, 0);
  const skippedNote = skipped
    ? ` (${skipped} malformed line${skipped === 1 ? "" : "s"} skipped)`
    : "";
  return `${calls} unattested AI call${calls === 1 ? "" : "s"} at ${groups.length} call site${
    groups.length === 1 ? "" : "s"
  }${skippedNote}`;
}

/** A table cell names at most this many providers or models, then "+N more". */
export const CELL_ITEMS = 3;

/** A list for one table cell: the first few, then how many more (the JSON output has them all). */
export function cellList(items: readonly string[]): string {
  if (items.length === 0) return "-";
  const shown = items.slice(0, CELL_ITEMS).join(", ");
  return items.length > CELL_ITEMS ? `${shown} +${items.length - CELL_ITEMS} more` : shown;
}

function columns(g: SiteGroup): string[] {
  return [
    g.call_site ?? "(unknown)",
    String(g.count),
    cellList(g.providers),
    cellList(g.models),
    g.first_seen,
    g.last_seen,
  ];
}

const HEADER = ["CALL SITE", "COUNT", "PROVIDERS", "MODELS", "FIRST SEEN", "LAST SEEN"];

/** Rows as aligned columns under a header, one line each. */
export function textTable(header: string[], body: string[][]): string[] {
  const rows = [header, ...body];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}

function table(groups: SiteGroup[], skipped: number): string {
  const lines = textTable(HEADER, groups.map(columns));
  return [...(groups.length ? lines : []), summary(groups, skipped)].join("\n") + "\n";
}

function markdownCell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

function markdown(groups: SiteGroup[], skipped: number): string {
  const out = ["### aiguard: unattested AI calls", "", summary(groups, skipped) + "."];
  if (groups.length) {
    out.push("", `| ${HEADER.map((h) => h.toLowerCase()).join(" | ")} |`);
    out.push(`|${HEADER.map(() => " --- ").join("|")}|`);
    for (const g of groups) {
      const [site, ...rest] = columns(g);
      out.push(`| \`${markdownCell(site!)}\` | ${rest.map(markdownCell).join(" | ")} |`);
    }
    out.push("", "Wrap the calling functions with `attest()` once they are reviewed.");
  }
  return out.join("\n") + "\n";
}

function sarif(groups: SiteGroup[]): string {
  const results = groups.map((g) => {
    const site = g.call_site ? splitCallSite(g.call_site) : null;
    const text = `${g.count} unattested AI call${g.count === 1 ? "" : "s"} (${
      cellList(g.providers)
    }${g.models.length ? `; ${cellList(g.models)}` : ""}), last seen ${g.last_seen}. ${RULE_FIX}`;
    return {
      ruleId: RULE_ID,
      level: "warning",
      message: { text },
      locations: site
        ? [{
          physicalLocation: {
            artifactLocation: { uri: site.path },
            region: { startLine: site.line, startColumn: site.column },
          },
        }]
        : [],
      properties: { count: g.count, providers: g.providers, models: g.models },
    };
  });
  return sarifDocument(results);
}

/** A SARIF 2.1.0 log of aiguard's one rule, with these results (report, scan and coverage). */
export function sarifDocument(results: unknown[]): string {
  return JSON.stringify(
    {
      $schema: "https://json.schemastore.org/sarif-2.1.0.json",
      version: "2.1.0",
      runs: [{
        tool: {
          driver: {
            name: "aiguard",
            version: VERSION,
            informationUri: "https://jsr.io/@aiguard/attest",
            rules: [{
              id: RULE_ID,
              name: "UnattestedAiCall",
              shortDescription: { text: "AI provider call outside an attest() scope" },
              defaultConfiguration: { level: "warning" },
            }],
          },
        },
        results,
      }],
    },
    null,
    2,
  ) + "\n";
}

/** Renders grouped call sites in a format. */
export function render(format: ReportFormat, groups: SiteGroup[], skipped: number): string {
  switch (format) {
    case "table":
      return table(groups, skipped);
    case "markdown":
      return markdown(groups, skipped);
    case "sarif":
      return sarif(groups);
    case "json":
      return JSON.stringify(
        {
          sites: groups,
          calls: groups.reduce((n, g) => n + g.count, 0),
          skipped,
        },
        null,
        2,
      ) + "\n";
  }
}
