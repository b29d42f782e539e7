/**
 * `aiguard scan [PATH...]`: AI call sites found statically, attested or not.
 *
 * @module
 */
import process from "node:process";
import { type Command, UsageError } from "./command.ts";
import { sarifDocument, textTable } from "./formats.ts";
import { scan, type ScanResult, type ScanSite } from "../scan/scan.ts";
import { RULE_ID, ruleMessage } from "../rule.ts";

const SCAN_FORMATS = ["table", "json", "sarif"] as const;

/** `N unattested · N attested · X% coverage`, as the source product prints it. */
export function scanSummary(result: ScanResult): string {
  const unattested = result.sites.filter((s) => !s.attested).length;
  const attested = result.sites.length - unattested;
  const coverage = result.sites.length ? Math.round((attested / result.sites.length) * 100) : 100;
  return `${unattested} unattested · ${attested} attested · ${coverage}% coverage ` +
    `(${result.files} files${result.errors.length ? `, ${result.errors.length} not parsed` : ""})`;
}

function table(result: ScanResult): string {
  const rows = result.sites.map((s) => [
    `${s.file}:${s.line}:${s.column}`,
    s.attested ? `attested${s.attestation ? ` (${s.attestation})` : ""}` : "UNATTESTED",
    s.provider,
    s.target,
    s.confidence,
  ]);
  const lines = rows.length
    ? textTable(["SITE", "STATUS", "PROVIDER", "TARGET", "CONFIDENCE"], rows)
    : [];
  for (const e of result.errors) lines.push(`not parsed: ${e.file}: ${e.message}`);
  return [...lines, scanSummary(result)].join("\n") + "\n";
}

/** One SARIF result for an unattested site. */
export function sarifResult(s: ScanSite, text: string): unknown {
  return {
    ruleId: RULE_ID,
    level: s.confidence === "high" ? "warning" : "note",
    message: { text },
    locations: [{
      physicalLocation: {
        artifactLocation: { uri: s.file },
        region: { startLine: s.line, startColumn: s.column },
      },
    }],
    properties: { provider: s.provider, target: s.target, confidence: s.confidence },
  };
}

/** A scan's output in one of its formats. */
export function renderScan(format: string, result: ScanResult): string {
  if (format === "json") {
    const { lines: _lines, ...json } = result;
    return JSON.stringify(json, null, 2) + "\n";
  }
  if (format === "sarif") {
    return sarifDocument(
      result.sites.filter((s) => !s.attested).map((s) =>
        sarifResult(s, ruleMessage(s.provider, s.target))
      ),
    );
  }
  return table(result);
}

/** Progress on a terminal's stderr; nothing when piped. */
export function terminalProgress(
  label: string,
): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total) => {
    process.stderr.write(`\r${label} ${done}/${total} files${done === total ? "\n" : ""}`);
  };
}

/** `aiguard scan`. */
export const scanCommand: Command = {
  name: "scan",
  summary: "AI call sites found statically, attested or not (--strict for CI)",
  usage:
    `Usage: aiguard scan [PATH...] [--format table|json|sarif] [--strict] [--include G] [--exclude G]

Finds AI calls in TypeScript and JavaScript sources (a real parser: TS, TSX, JSX, ESM, CommonJS)
and whether each runs inside attest(), an @attest() method or a wrap()ped client. Skips
node_modules, .git, dist, build, out, coverage and what .gitignore lists. --include/--exclude
take globs (repeatable). --strict exits 1 if any high-confidence unattested site is found.`,
  flags: { format: "string", strict: "boolean", include: "strings", exclude: "strings" },
  async run({ flags, positional, io }) {
    const format = (flags.format as string | undefined) ?? "table";
    if (!(SCAN_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be one of ${SCAN_FORMATS.join(", ")}`, "scan");
    }
    const progress = format === "table" ? terminalProgress("aiguard scan:") : undefined;
    const result = await scan({
      paths: positional,
      include: flags.include as string[] | undefined ?? [],
      exclude: flags.exclude as string[] | undefined ?? [],
      ...(progress ? { progress } : {}),
    });
    io.out(renderScan(format, result));
    const failing = result.sites.some((s) => !s.attested && s.confidence === "high");
    return flags.strict && failing ? 1 : 0;
  },
};
