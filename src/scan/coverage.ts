/**
 * AI-call coverage: the static sites of `aiguard scan` joined with the runtime records by file and
 * line, so one view shows every AI call site: attested, unattested and seen, unattested and never
 * seen (no test reached it), and seen at runtime only (dynamic code the scan cannot follow).
 *
 * @module
 */
import type { AnyRecord, GuardRecord } from "../report/record.ts";
import type { ScanSite } from "./scan.ts";
import { splitCallSite } from "../detect/call_site.ts";

/** Where a site stands. */
export type CoverageStatus = "attested" | "unattested_seen" | "unattested_unseen" | "runtime_only";

/** Every status, in the order views list them. */
export const STATUSES: readonly CoverageStatus[] = [
  "attested",
  "unattested_seen",
  "unattested_unseen",
  "runtime_only",
];

/** What the runtime saw at a site. */
export interface RuntimeSeen {
  count: number;
  /** Of those, outside any attested scope. */
  unattested: number;
  first_seen: string;
  last_seen: string;
  models: string[];
}

/** One row of the coverage. */
export interface CoverageSite {
  file: string;
  line: number;
  provider: string;
  target: string;
  status: CoverageStatus;
  static: Omit<ScanSite, "file" | "line" | "provider" | "target"> | null;
  runtime: RuntimeSeen | null;
}

/** The coverage document (`--format json`). */
export interface Coverage {
  v: 1;
  sites: CoverageSite[];
  /** How many sites have each status. */
  summary: Record<CoverageStatus, number>;
}

/** Joins scan sites and runtime records (AI calls, newer than `sinceMs` ago when given). */
export function joinCoverage(
  sites: readonly ScanSite[],
  records: readonly AnyRecord[],
  sinceMs?: number,
  now = Date.now(),
): Coverage {
  const cutoff = sinceMs === undefined ? -Infinity : now - sinceMs;
  const seen = new Map<string, { runtime: RuntimeSeen; sample: GuardRecord }>();
  for (const r of records) {
    if (r.event !== "ai_call" || r.call_site === null) continue;
    if (!(Date.parse(r.ts) >= cutoff)) continue;
    const at = splitCallSite(r.call_site);
    if (!at) continue;
    const key = `${at.path}:${at.line}`;
    let entry = seen.get(key);
    if (!entry) {
      entry = {
        runtime: { count: 0, unattested: 0, first_seen: r.ts, last_seen: r.ts, models: [] },
        sample: r,
      };
      seen.set(key, entry);
    }
    const rt = entry.runtime;
    rt.count++;
    if (!r.attested) rt.unattested++;
    if (r.ts < rt.first_seen) rt.first_seen = r.ts;
    if (r.ts > rt.last_seen) rt.last_seen = r.ts;
    if (r.model && !rt.models.includes(r.model)) rt.models.push(r.model);
  }
  const out: CoverageSite[] = [];
  const joined = new Set<string>();
  for (const s of sites) {
    const key = `${s.file}:${s.line}`;
    const runtime = seen.get(key)?.runtime ?? null;
    joined.add(key);
    const { file, line, provider, target, ...rest } = s;
    // The runtime has the last word: an unattested record at a site the scan thought attested
    // (attest() by a path the scan cannot see) is an unattested call.
    const status: CoverageStatus = s.attested && !(runtime && runtime.unattested > 0)
      ? "attested"
      : runtime
      ? "unattested_seen"
      : "unattested_unseen";
    out.push({ file, line, provider, target, status, static: rest, runtime });
  }
  for (const [key, { runtime, sample }] of seen) {
    if (joined.has(key)) continue;
    const at = splitCallSite(sample.call_site!)!;
    out.push({
      file: at.path,
      line: at.line,
      provider: sample.provider,
      target: sample.target,
      status: "runtime_only",
      static: null,
      runtime,
    });
  }
  out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  const summary = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<CoverageStatus, number>;
  for (const s of out) summary[s.status]++;
  return { v: 1, sites: out, summary };
}

const LABELS: Record<CoverageStatus, string> = {
  attested: "attested",
  unattested_seen: "unattested, seen at runtime",
  unattested_unseen: "unattested, never seen",
  runtime_only: "seen at runtime only",
};

const COLORS: Record<CoverageStatus, string> = {
  attested: "#2e7d32",
  unattested_seen: "#c62828",
  unattested_unseen: "#ef6c00",
  runtime_only: "#6a1b9a",
};

function escape(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/**
 * One self-contained page (no script, font or image from anywhere): a summary bar chart in inline
 * SVG and the per-file table. Every number carries a `data-` attribute, for people and for tests.
 */
export function coverageHtml(coverage: Coverage, title = "AI-call coverage"): string {
  const total = coverage.sites.length;
  const max = Math.max(1, ...STATUSES.map((s) => coverage.summary[s]));
  const bars = STATUSES.map((status, i) => {
    const n = coverage.summary[status];
    const width = Math.round((n / max) * 300);
    const y = 10 + i * 34;
    return `<g data-status="${status}"><text x="0" y="${y + 17}" font-size="13">${
      LABELS[status]
    }</text><rect x="200" y="${y}" width="${width}" height="24" fill="${
      COLORS[status]
    }" rx="3"></rect><text x="${206 + width}" y="${
      y + 17
    }" font-size="13" data-count="${status}">${n}</text></g>`;
  }).join("");
  const byFile = new Map<string, CoverageSite[]>();
  for (const s of coverage.sites) byFile.set(s.file, [...(byFile.get(s.file) ?? []), s]);
  const rows = [...byFile].map(([file, sites]) => {
    const counts = STATUSES.map((status) => sites.filter((s) => s.status === status).length);
    const detail = sites.map((s) =>
      `<tr class="site" data-status="${s.status}"><td>${
        escape(s.file)
      }:${s.line}</td><td><span class="badge" style="background:${COLORS[s.status]}">${
        LABELS[s.status]
      }</span></td><td>${escape(s.provider)}</td><td>${
        escape(s.target)
      }</td><td data-runtime-count>${s.runtime?.count ?? 0}</td></tr>`
    ).join("");
    return `<tbody data-file="${escape(file)}"><tr class="file"><th colspan="5">${escape(file)} — ${
      counts.map((n, i) => `${n} ${LABELS[STATUSES[i]!]}`).join(", ")
    }</th></tr>${detail}</tbody>`;
  }).join("");
  const attested = coverage.summary.attested;
  const percent = total ? Math.round((attested / total) * 100) : 100;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escape(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.4rem; }
.summary { font-size: 1.1rem; margin-bottom: 1rem; }
table { border-collapse: collapse; width: 100%; margin-top: 1.5rem; }
td, th { padding: 4px 8px; text-align: left; border-bottom: 1px solid #eee; }
tr.file th { background: #f5f5f5; }
.badge { color: white; border-radius: 3px; padding: 1px 6px; font-size: 12px; white-space: nowrap; }
</style>
</head>
<body>
<h1>${escape(title)}</h1>
<p class="summary"><span data-total>${total}</span> AI call sites · <span data-percent>${percent}</span>% attested</p>
<svg width="560" height="${
    10 + STATUSES.length * 34
  }" role="img" aria-label="sites by status">${bars}</svg>
<table>
<thead><tr><th>site</th><th>status</th><th>provider</th><th>target</th><th>runtime calls</th></tr></thead>
${rows}
</table>
</body>
</html>
`;
}
