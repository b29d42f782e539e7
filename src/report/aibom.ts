/**
 * The AI bill of materials: a CycloneDX 1.6 JSON document of the providers called (services, with
 * their endpoints), the models used (`machine-learning-model` components, one per provider and
 * model) and the call sites of each (`evidence.occurrences`), from the runtime records and, when
 * given, the static scan's sites.
 *
 * @module
 */
import type { AnyRecord } from "./record.ts";
import { VERSION } from "../version.ts";
import { splitCallSite } from "../detect/call_site.ts";

/** A call site the scan found (the fields the BOM uses). */
export interface StaticSite {
  file: string;
  line: number;
  provider: string;
}

interface ModelEntry {
  provider: string;
  model: string | null;
  occurrences: Map<string, { location: string; line: number }>;
  calls: number;
}

function uuid(): string {
  const c = globalThis.crypto as { randomUUID?: () => string } | undefined;
  if (c?.randomUUID) return c.randomUUID();
  const hex = Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16));
  return `${hex.slice(0, 8).join("")}-${hex.slice(8, 12).join("")}-4${
    hex.slice(13, 16).join("")
  }-a${hex.slice(17, 20).join("")}-${hex.slice(20).join("")}`;
}

const ref = (kind: string, ...parts: string[]) =>
  `${kind}:${parts.map((p) => encodeURIComponent(p)).join("/")}`;

/** Builds the CycloneDX 1.6 document. */
export function buildAiBom(
  records: readonly AnyRecord[],
  sites: readonly StaticSite[] = [],
  now: Date = new Date(),
): Record<string, unknown> {
  const services = new Map<string, Set<string>>();
  const models = new Map<string, ModelEntry>();
  const model = (provider: string, name: string | null) => {
    const key = `${provider}\0${name ?? ""}`;
    let entry = models.get(key);
    if (!entry) {
      entry = { provider, model: name, occurrences: new Map(), calls: 0 };
      models.set(key, entry);
    }
    if (!services.has(provider)) services.set(provider, new Set());
    return entry;
  };
  for (const r of records) {
    if (r.event !== "ai_call") continue;
    const entry = model(r.provider, r.model);
    entry.calls++;
    if (r.server) {
      const port = r.port && r.port !== 443 && r.port !== 80 ? `:${r.port}` : "";
      services.get(r.provider)!.add(`${r.port === 80 ? "http" : "https"}://${r.server}${port}`);
    }
    const at = r.call_site ? splitCallSite(r.call_site) : null;
    if (at) entry.occurrences.set(`${at.path}:${at.line}`, { location: at.path, line: at.line });
  }
  for (const s of sites) {
    // The scan knows the provider, rarely the model: its sites go to the provider's calls whose
    // model is known at run time if the site was seen there, else to a model-unknown entry.
    const key = `${s.file}:${s.line}`;
    const seen = [...models.values()].some((m) =>
      m.provider === s.provider && m.occurrences.has(key)
    );
    if (!seen) model(s.provider, null).occurrences.set(key, { location: s.file, line: s.line });
  }
  const serviceList = [...services].sort(([a], [b]) => a.localeCompare(b)).map(
    ([provider, endpoints]) => ({
      "bom-ref": ref("service", provider),
      provider: { name: provider },
      name: provider,
      description: `AI provider API (${provider})`,
      ...(endpoints.size ? { endpoints: [...endpoints].sort() } : {}),
      "x-trust-boundary": true,
    }),
  );
  const components = [...models.values()]
    .sort((a, b) =>
      a.provider.localeCompare(b.provider) || (a.model ?? "").localeCompare(b.model ?? "")
    )
    .map((m) => ({
      type: "machine-learning-model",
      "bom-ref": ref("model", m.provider, m.model ?? "unknown"),
      name: m.model ?? `${m.provider} (model not known statically)`,
      group: m.provider,
      publisher: m.provider,
      ...(m.occurrences.size
        ? {
          evidence: {
            occurrences: [...m.occurrences.values()]
              .sort((a, b) => a.location.localeCompare(b.location) || a.line - b.line)
              .map((o) => ({ location: o.location, line: o.line })),
          },
        }
        : {}),
      properties: [{ name: "aiguard:calls", value: String(m.calls) }],
    }));
  return {
    $schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    serialNumber: `urn:uuid:${uuid()}`,
    version: 1,
    metadata: {
      timestamp: now.toISOString(),
      tools: {
        components: [{ type: "application", name: "aiguard", version: VERSION }],
      },
    },
    services: serviceList,
    components,
    dependencies: components.map((c) => ({
      ref: c["bom-ref"],
      dependsOn: [ref("service", (c as { group: string }).group)],
    })),
  };
}
