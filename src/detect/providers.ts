/**
 * The provider registry: which requests are AI calls, to which provider, for which operation.
 * One table for every layer (SDK and fetch), so the layers agree on names.
 *
 * @module
 */

/** An extra rule from `GuardOptions.providers`. */
export interface ProviderRule {
  /** Provider name written on records, e.g. `"acme_llm"`. */
  provider: string;
  /** Host (`name` or `name:port`) the request must go to, or a RegExp tested against `name:port`. */
  host?: string | RegExp;
  /** A string the URL path must end with, or a RegExp tested against the path (no query). */
  path?: string | RegExp;
  /** GenAI operation name written on records; by default taken from the path. */
  operation?: string;
}

/** What the registry says of one request. */
export interface ProviderMatch {
  provider: string;
  operation: string | null;
  /** Host name without port, e.g. `api.openai.com`. */
  server: string;
  port: number | null;
  /** URL path without query or fragment. */
  path: string;
}

/**
 * Provider hosts. `*` stands for one DNS label; a leading `*.` for one or more. An entry with a port
 * matches only that port; one without matches any.
 */
const HOSTS: ReadonlyArray<[host: string, provider: string]> = [
  ["api.openai.com", "openai"],
  ["us.api.openai.com", "openai"],
  ["eu.api.openai.com", "openai"],
  ["*.openai.azure.com", "azure.ai.openai"],
  ["*.cognitiveservices.azure.com", "azure.ai.openai"],
  ["*.services.ai.azure.com", "azure.ai.openai"],
  ["api.anthropic.com", "anthropic"],
  ["generativelanguage.googleapis.com", "gcp.gemini"],
  ["aiplatform.googleapis.com", "gcp.vertex_ai"],
  ["*-aiplatform.googleapis.com", "gcp.vertex_ai"],
  ["aiplatform.*.rep.googleapis.com", "gcp.vertex_ai"],
  ["bedrock-runtime.*.amazonaws.com", "aws.bedrock"],
  ["bedrock-runtime-fips.*.amazonaws.com", "aws.bedrock"],
  ["api.mistral.ai", "mistral_ai"],
  ["api.eu.mistral.ai", "mistral_ai"],
  ["api.us.mistral.ai", "mistral_ai"],
  ["api.groq.com", "groq"],
  ["api.cohere.com", "cohere"],
  ["api.cohere.ai", "cohere"],
  ["api.deepseek.com", "deepseek"],
  ["api.x.ai", "x_ai"],
  ["api.perplexity.ai", "perplexity"],
  ["api.together.xyz", "together"],
  ["api.together.ai", "together"],
  ["api.fireworks.ai", "fireworks"],
  ["openrouter.ai", "openrouter"],
  ["api.cerebras.ai", "cerebras"],
  ["api.deepinfra.com", "deepinfra"],
  ["router.huggingface.co", "huggingface"],
  ["ollama.com", "ollama"],
  ["localhost:11434", "ollama"],
  ["127.0.0.1:11434", "ollama"],
  // Gateways: the provider behind them is not known from the host alone.
  ["ai-gateway.vercel.sh", "vercel.ai_gateway"],
  ["gateway.ai.cloudflare.com", "cloudflare.ai_gateway"],
  ["oai.helicone.ai", "helicone"],
  ["api.portkey.ai", "portkey"],
];

function globPattern(glob: string): RegExp {
  const escaped = glob.replace(/[.]/g, "\\.");
  const labels = escaped.startsWith("*\\.") ? `(?:[a-z0-9-]+\\.)+${escaped.slice(3)}` : escaped;
  return new RegExp(`^${labels.replace(/\*/g, "[a-z0-9-]+")}$`);
}

// Exact hosts answer from a Map; patterned ones are tried only when the host ends with the fixed
// text after their last `*` (e.g. `.amazonaws.com`).
const EXACT_HOSTS = new Map(HOSTS.filter(([h]) => !h.includes("*")));
const PATTERN_HOSTS: ReadonlyArray<[suffix: string, pattern: RegExp, provider: string]> = HOSTS
  .filter(([h]) => h.includes("*"))
  .map(([h, provider]) => [h.slice(h.lastIndexOf("*") + 1), globPattern(h), provider]);

/**
 * Paths that make a request an AI call on any host: OpenAI-compatible servers (also Realtime),
 * Ollama, Gemini (also Live), and Bedrock's runtime API (VPC endpoints, proxies).
 */
const ANY_HOST_PATH = "(?:/v1/(?:chat/completions|completions|responses|embeddings|messages)" +
  "|/v1/realtime(?:/(?:sessions|client_secrets|transcription_sessions))?|/openai/realtime" +
  "|:(?:generateContent|streamGenerateContent)|\\.BidiGenerateContent(?:Constrained)?" +
  "|/api/(?:chat|generate)" +
  "|/model/[^/]+/(?:converse|converse-stream|invoke|invoke-with-response-stream))";
const ANY_HOST_PATHS = new RegExp(`${ANY_HOST_PATH}$`);
/**
 * The last segment of every path above (after its last `/`, `:` or `.`): a Set lookup answers most
 * ordinary paths (`app.js`, `users`, `health`) without running the expression.
 */
const ANY_HOST_TAILS = new Set([
  "completions",
  "responses",
  "embeddings",
  "messages",
  "realtime",
  "sessions",
  "client_secrets",
  "transcription_sessions",
  "generateContent",
  "streamGenerateContent",
  "BidiGenerateContent",
  "BidiGenerateContentConstrained",
  "chat",
  "generate",
  "converse",
  "converse-stream",
  "invoke",
  "invoke-with-response-stream",
]);

/** Whether `url.slice(start, end)` (a path) may be an AI path on any host. */
function mayBeAnyHostPath(url: string, start: number, end: number): boolean {
  let i = end - 1;
  for (; i >= start; i--) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 58 /* : */ || c === 46 /* . */) break;
  }
  return ANY_HOST_TAILS.has(url.slice(i + 1, end)) && ANY_HOST_PATHS.test(url.slice(start, end));
}

/** The GenAI operation for a path, on a provider host or an OpenAI-compatible one. */
export function operationForPath(path: string): string | null {
  if (path.endsWith("/chat/completions")) return "chat";
  if (path.endsWith("/completions")) return "text_completion";
  if (path.endsWith("/responses") || path.endsWith("/messages")) return "chat";
  if (path.endsWith("/embeddings") || path.endsWith("/embed")) return "embeddings";
  if (path.endsWith(":embedContent") || path.endsWith(":batchEmbedContents")) return "embeddings";
  if (path.endsWith(":generateContent") || path.endsWith(":streamGenerateContent")) {
    return "generate_content";
  }
  if (path.endsWith(":rawPredict") || path.endsWith(":streamRawPredict")) return "chat";
  if (REALTIME_PATH.test(path)) return "realtime";
  // Ollama, and Cohere's v1/v2 chat and generate.
  if (path.endsWith("/api/chat") || /\/v[12]\/chat$/.test(path)) return "chat";
  if (path.endsWith("/api/generate") || /\/v1\/generate$/.test(path)) return "text_completion";
  if (path.endsWith("/images/generations")) return "generate_content";
  if (/\/model\/[^/]+\/(?:converse|converse-stream)$/.test(path)) return "chat";
  if (/\/model\/[^/]+\/invoke(?:-with-response-stream)?$/.test(path)) return "generate_content";
  return null;
}

const REALTIME_PATH = /(?:\/realtime(?:\/[a-z_]+)?|\.BidiGenerateContent(?:Constrained)?)$/;

/**
 * The model named in a URL path: Gemini and Vertex `models/x:generateContent`, Bedrock
 * `model/x/invoke`, an Azure OpenAI deployment `deployments/x/chat/completions`.
 */
export function modelFromPath(path: string): string | null {
  const found = /\/models\/([^/:]+):/.exec(path) ??
    /\/model\/([^/]+)\/(?:invoke|converse)/.exec(path) ??
    /\/openai\/deployments\/([^/]+)\//.exec(path);
  if (!found) return null;
  try {
    return decodeURIComponent(found[1]!);
  } catch {
    return found[1]!; // a malformed escape: the raw text
  }
}

/** The provider of a host (`name`, and `name:port`), or `null` when the host is not a known one. */
export function providerForHost(hostname: string, hostWithPort: string): string | null {
  const exact = EXACT_HOSTS.get(hostname) ??
    (hostWithPort === hostname ? undefined : EXACT_HOSTS.get(hostWithPort));
  if (exact !== undefined) return exact;
  // Every patterned host is under one of these domains: most hosts stop here.
  if (
    !hostname.endsWith("azure.com") && !hostname.endsWith("googleapis.com") &&
    !hostname.endsWith("amazonaws.com")
  ) return null;
  for (let i = 0; i < PATTERN_HOSTS.length; i++) {
    const [suffix, pattern, provider] = PATTERN_HOSTS[i]!;
    if (hostname.endsWith(suffix) && pattern.test(hostname)) return provider;
  }
  return null;
}

/**
 * Whether an absolute URL may be an AI call: an AI path on any host, or a known provider host.
 * One pass up to the query, no split, no lowercasing unless the host has capitals: every fetch of
 * the host app passes here, and ordinary traffic must leave in a few hundred nanoseconds.
 */
function mayBeAi(url: string): boolean {
  const scheme = url.indexOf("://");
  if (scheme < 2 || scheme > 5) return false;
  let start = scheme + 3;
  let end = start;
  let colon = -1;
  let upper = false;
  for (; end < url.length; end++) {
    const c = url.charCodeAt(end);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
    if (c === 58 /* : */) colon = end;
    else if (c === 64 /* @ */) {
      start = end + 1;
      colon = -1;
    } else if (c === 93 /* ] */) colon = -1;
    else if (c >= 65 && c <= 90) upper = true;
  }
  let pathEnd = end;
  while (pathEnd < url.length) {
    const c = url.charCodeAt(pathEnd);
    if (c === 63 || c === 35) break;
    pathEnd++;
  }
  if (mayBeAnyHostPath(url, end, pathEnd)) return true;
  let authority = url.slice(start, end);
  if (upper) authority = authority.toLowerCase();
  const hostname = colon === -1 ? authority : authority.slice(0, colon - start);
  return providerForHost(hostname, authority) !== null;
}

interface UrlParts {
  hostname: string;
  host: string;
  port: number | null;
  path: string;
}

/**
 * Splits an absolute http(s) or ws(s) URL with string scans only: this runs for every fetch of the host app,
 * and `new URL()` costs several times more.
 */
export function splitUrl(url: string): UrlParts | null {
  const schemeEnd = url.indexOf("://");
  if (schemeEnd < 2 || schemeEnd > 5) return null;
  const scheme = url.slice(0, schemeEnd).toLowerCase();
  if (scheme !== "http" && scheme !== "https" && scheme !== "ws" && scheme !== "wss") return null;
  const secure = scheme === "https" || scheme === "wss";
  let authorityEnd = url.length;
  for (let i = schemeEnd + 3; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
      authorityEnd = i;
      break;
    }
  }
  let authority = url.slice(schemeEnd + 3, authorityEnd);
  const at = authority.lastIndexOf("@");
  if (at !== -1) authority = authority.slice(at + 1);
  authority = authority.toLowerCase();
  let pathEnd = url.length;
  for (let i = authorityEnd; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 63 || c === 35) {
      pathEnd = i;
      break;
    }
  }
  const path = authorityEnd < pathEnd ? url.slice(authorityEnd, pathEnd) : "/";
  const bracket = authority.lastIndexOf("]");
  const colon = authority.lastIndexOf(":");
  let hostname = authority;
  let port: number | null = null;
  if (colon > bracket) {
    hostname = authority.slice(0, colon);
    port = Number(authority.slice(colon + 1)) || null;
  }
  return {
    hostname,
    host: port === null ? hostname : `${hostname}:${port}`,
    port: port ?? (secure ? 443 : 80),
    path,
  };
}

function ruleMatches(rule: ProviderRule, parts: UrlParts): boolean {
  if (rule.host !== undefined) {
    if (typeof rule.host === "string") {
      const host = rule.host.toLowerCase();
      if (host !== parts.hostname && host !== parts.host) return false;
    } else if (!rule.host.test(parts.host)) return false;
  }
  if (rule.path !== undefined) {
    if (typeof rule.path === "string") {
      if (!parts.path.endsWith(rule.path)) return false;
    } else if (!rule.path.test(parts.path)) return false;
  }
  return rule.host !== undefined || rule.path !== undefined;
}

/**
 * Classifies a request URL: a provider match for an AI call, `null` for anything else.
 * User rules come first, then known provider hosts, then OpenAI-compatible paths on any host.
 */
export function matchUrl(url: string, rules: readonly ProviderRule[]): ProviderMatch | null {
  // The hot path for ordinary traffic: no split, no allocation beyond the authority string.
  if (rules.length === 0 && !mayBeAi(url)) return null;
  const parts = splitUrl(url);
  if (parts === null) return null;
  for (const rule of rules) {
    if (ruleMatches(rule, parts)) {
      return {
        provider: rule.provider,
        operation: rule.operation ?? operationForPath(parts.path),
        server: parts.hostname,
        port: parts.port,
        path: parts.path,
      };
    }
  }
  const provider = providerForHost(parts.hostname, parts.host);
  if (provider !== null) {
    return {
      provider,
      operation: operationForPath(parts.path),
      server: parts.hostname,
      port: parts.port,
      path: parts.path,
    };
  }
  if (!ANY_HOST_PATHS.test(parts.path)) return null;
  return {
    provider: "openai_compatible",
    operation: operationForPath(parts.path),
    server: parts.hostname,
    port: parts.port,
    path: parts.path,
  };
}

/** Checks `GuardOptions.providers` entries, naming the index and key of the first bad one. */
export function validateRules(rules: unknown, where = "providers"): ProviderRule[] {
  if (!Array.isArray(rules)) throw new TypeError(`${where} must be an array of provider rules.`);
  return rules.map((rule, i) => {
    const at = `${where}[${i}]`;
    if (rule === null || typeof rule !== "object") throw new TypeError(`${at} must be an object.`);
    const r = rule as Record<string, unknown>;
    if (typeof r.provider !== "string" || r.provider === "") {
      throw new TypeError(`${at}.provider must be a non-empty string.`);
    }
    for (const key of ["host", "path"] as const) {
      const v = r[key];
      if (v !== undefined && typeof v !== "string" && !(v instanceof RegExp)) {
        throw new TypeError(`${at}.${key} must be a string or a RegExp.`);
      }
    }
    if (r.host === undefined && r.path === undefined) {
      throw new TypeError(`${at} needs a host or a path to match.`);
    }
    if (r.operation !== undefined && typeof r.operation !== "string") {
      throw new TypeError(`${at}.operation must be a string.`);
    }
    for (const key of Object.keys(r)) {
      if (!["provider", "host", "path", "operation"].includes(key)) {
        throw new TypeError(`${at} has an unknown key "${key}".`);
      }
    }
    return r as unknown as ProviderRule;
  });
}
