/**
 * The provider registry: which requests are AI calls, to which provider, for which operation.
 * One table for every layer (SDK and fetch), so the layers agree on names.
 *
 * @module
 */

import type { CallFacts, Detector } from "../report/record.ts";

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
  ["api-inference.huggingface.co", "huggingface"],
  ["api.ai21.com", "ai21"],
  ["api.replicate.com", "replicate"],
  ["api.stability.ai", "stability"],
  ["api.voyageai.com", "voyage"],
  ["api-atlas.nomic.ai", "nomic"],
  ["*.ml.cloud.ibm.com", "ibm.watsonx.ai"],
  ["api.moonshot.cn", "moonshot"],
  ["api.moonshot.ai", "moonshot"],
  ["dashscope.aliyuncs.com", "dashscope"],
  ["dashscope-intl.aliyuncs.com", "dashscope"],
  ["open.bigmodel.cn", "zhipu"],
  ["api.siliconflow.cn", "siliconflow"],
  ["api.siliconflow.com", "siliconflow"],
  ["ark.*.volces.com", "volcengine"],
  ["qianfan.baidubce.com", "qianfan"],
  ["aip.baidubce.com", "qianfan"],
  ["hunyuan.tencentcloudapi.com", "hunyuan"],
  ["api.hunyuan.cloud.tencent.com", "hunyuan"],
  ["spark-api-open.xf-yun.com", "iflytek"],
  ["api.minimax.chat", "minimax"],
  ["api.minimaxi.com", "minimax"],
  ["api.inceptionlabs.ai", "inception"],
  ["api.asksage.ai", "asksage"],
  ["ollama.com", "ollama"],
  ["localhost:11434", "ollama"],
  ["127.0.0.1:11434", "ollama"],
  // Gateways: the provider behind them is not known from the host alone.
  ["ai-gateway.vercel.sh", "vercel.ai_gateway"],
  ["gateway.ai.cloudflare.com", "cloudflare.ai_gateway"],
  ["oai.helicone.ai", "helicone"],
  ["api.portkey.ai", "portkey"],
  ["api.302.ai", "302ai"],
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
/** The last two labels of every patterned host (`azure.com`, `amazonaws.com`, …). */
const PATTERN_DOMAINS: readonly string[] = [
  ...new Set(PATTERN_HOSTS.map(([suffix]) => suffix.split(".").slice(-2).join("."))),
];

/**
 * Every AI path the registry knows, first match wins: the path endings of one GenAI operation
 * (`{segment}` stands for one path segment, `{word}` for one of lowercase letters and `_`), and those of them that make a request an AI call on any host
 * (OpenAI-compatible servers, also Realtime; Ollama; Gemini, also Live; Bedrock's runtime API
 * behind VPC endpoints and proxies). On a provider's own host any path is its; the endings name
 * the operation. `compatible` marks the OpenAI-compatible API's own endings, which name an AI call
 * after a base URL the scan cannot read (`${base}/chat/completions`).
 */
const AI_PATHS: ReadonlyArray<{
  endings: readonly string[];
  operation: string | null;
  anyHost?: readonly string[];
  compatible?: true;
}> = [
  {
    endings: ["/chat/completions"],
    operation: "chat",
    anyHost: ["/v1/chat/completions"],
    compatible: true,
  },
  { endings: ["/completions"], operation: "text_completion", anyHost: ["/v1/completions"] },
  { endings: ["/responses"], operation: "chat", anyHost: ["/v1/responses"], compatible: true },
  { endings: ["/messages"], operation: "chat", anyHost: ["/v1/messages"] },
  {
    endings: ["/embeddings"],
    operation: "embeddings",
    anyHost: ["/v1/embeddings"],
    compatible: true,
  },
  { endings: ["/embed", ":embedContent", ":batchEmbedContents"], operation: "embeddings" },
  {
    endings: [":generateContent", ":streamGenerateContent"],
    operation: "generate_content",
    anyHost: [":generateContent", ":streamGenerateContent"],
  },
  // Vertex AI's partner models (Claude, Llama) on `…/publishers/x/models/y:rawPredict`.
  { endings: [":rawPredict", ":streamRawPredict"], operation: "chat" },
  {
    endings: [
      "/realtime",
      "/realtime/{word}",
      ".BidiGenerateContent",
      ".BidiGenerateContentConstrained",
    ],
    operation: "realtime",
    anyHost: [
      "/v1/realtime",
      "/v1/realtime/sessions",
      "/v1/realtime/client_secrets",
      "/v1/realtime/transcription_sessions",
      "/openai/realtime",
      ".BidiGenerateContent",
      ".BidiGenerateContentConstrained",
    ],
  },
  // Ollama, and Cohere's v1/v2 chat and generate.
  { endings: ["/api/chat", "/v1/chat", "/v2/chat"], operation: "chat", anyHost: ["/api/chat"] },
  {
    endings: ["/api/generate", "/v1/generate"],
    operation: "text_completion",
    anyHost: ["/api/generate"],
  },
  { endings: ["/images/generations"], operation: "generate_content" },
  {
    endings: ["/model/{segment}/converse", "/model/{segment}/converse-stream"],
    operation: "chat",
    anyHost: ["/model/{segment}/converse", "/model/{segment}/converse-stream"],
  },
  {
    endings: ["/model/{segment}/invoke", "/model/{segment}/invoke-with-response-stream"],
    operation: "generate_content",
    anyHost: ["/model/{segment}/invoke", "/model/{segment}/invoke-with-response-stream"],
  },
];

/** Path endings as one expression anchored at the path's end. */
function endingPattern(endings: readonly string[]): RegExp {
  const alternatives = endings.map((e) =>
    e.replace(/[.]/g, "\\.").replaceAll("{segment}", "[^/]+").replaceAll("{word}", "[a-z_]+")
  );
  return new RegExp(`(?:${alternatives.join("|")})$`);
}

const OPERATION_PATHS: ReadonlyArray<[pattern: RegExp, operation: string | null]> = AI_PATHS.map((
  row,
) => [endingPattern(row.endings), row.operation]);
const ANY_HOST_PATHS = endingPattern(AI_PATHS.flatMap((row) => row.anyHost ?? []));
const COMPATIBLE_PATHS = endingPattern(
  AI_PATHS.filter((row) => row.compatible).flatMap((row) => row.endings),
);
/**
 * The last segment of every any-host ending (after its last `/`, `:` or `.`): a Set lookup answers
 * most ordinary paths (`app.js`, `users`, `health`) without running the expression.
 */
const ANY_HOST_TAILS = new Set(
  AI_PATHS.flatMap((row) => row.anyHost ?? []).map((e) => e.split(/[/:.]/).pop()!),
);

/** `end` moved back over trailing slashes (`/v1/chat/completions/` is served as the same path). */
function trimSlashes(url: string, start: number, end: number): number {
  while (end - 1 > start && url.charCodeAt(end - 1) === 47 /* / */) end--;
  return end;
}

/** The path without trailing slashes, as the registry matches it. */
function matchedPath(path: string): string {
  const end = trimSlashes(path, 0, path.length);
  return end === path.length ? path : path.slice(0, end);
}

/** Whether `url.slice(start, end)` (a path) may be an AI path on any host. */
function mayBeAnyHostPath(url: string, start: number, end: number): boolean {
  end = trimSlashes(url, start, end);
  let i = end - 1;
  for (; i >= start; i--) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 58 /* : */ || c === 46 /* . */) break;
  }
  return ANY_HOST_TAILS.has(url.slice(i + 1, end)) && ANY_HOST_PATHS.test(url.slice(start, end));
}

/**
 * The GenAI operation for a path, on a provider host or an OpenAI-compatible one.
 *
 * @example
 * ```ts
 * import { operationForPath } from "./providers.ts";
 * operationForPath("/v1beta/models/gemini-2.0-flash:generateContent"); // "generate_content"
 * ```
 */
export function operationForPath(path: string): string | null {
  for (const [pattern, operation] of OPERATION_PATHS) {
    if (pattern.test(path)) return operation;
  }
  return null;
}

/**
 * Whether a path ends as an OpenAI-compatible API's AI calls do (`/chat/completions`,
 * `/embeddings`, `/responses`), whatever comes before it: what a call with a base URL from
 * elsewhere is known by.
 */
export function isCompatiblePath(path: string): boolean {
  return COMPATIBLE_PATHS.test(path);
}

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
  // Every patterned host is under one of a few domains: most hosts stop here.
  if (!PATTERN_DOMAINS.some((domain) => hostname.endsWith(domain))) return null;
  for (let i = 0; i < PATTERN_HOSTS.length; i++) {
    const [suffix, pattern, provider] = PATTERN_HOSTS[i]!;
    if (hostname.endsWith(suffix) && pattern.test(hostname)) return provider;
  }
  return null;
}

/** What {@link scan} found in a URL. */
const NOT_AI = 0;
const MAYBE_AI = 1;
/** The runtime's WHATWG parse may read the string otherwise than the scan: parse it first. */
const UNUSUAL = 2;
type ScanResult = typeof NOT_AI | typeof MAYBE_AI | typeof UNUSUAL;

/** Whether `url.slice(0, end)` is `http`, `https`, `ws` or `wss` in any case. */
function isWebScheme(url: string, end: number): boolean {
  const c0 = url.charCodeAt(0) | 32;
  if (c0 === 104 /* h */) {
    if (end !== 4 && end !== 5) return false;
    if (
      (url.charCodeAt(1) | 32) !== 116 || (url.charCodeAt(2) | 32) !== 116 ||
      (url.charCodeAt(3) | 32) !== 112
    ) return false;
    return end === 4 || (url.charCodeAt(4) | 32) === 115;
  }
  if (c0 === 119 /* w */ && (url.charCodeAt(1) | 32) === 115) {
    return end === 2 || (end === 3 && (url.charCodeAt(2) | 32) === 115);
  }
  return false;
}

/**
 * Whether `url.slice(start, end)` is an IPv4 address the way WHATWG writes one: four decimal parts,
 * no zero-padding.
 */
function isDottedQuad(url: string, start: number, end: number): boolean {
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : url.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || value > 255 || ++parts > 4) return false;
      digits = 0;
      value = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && value === 0) return false; // a leading zero is octal to the parser
      value = value * 10 + c - 48;
      if (++digits > 3) return false;
    } else return false;
  }
  return parts === 4;
}

/**
 * Classifies a URL string as it is written: ordinary traffic leaves after one pass up to the query,
 * with no split and no lowercasing unless the host has capitals, in a few hundred nanoseconds. Any
 * text the runtime's WHATWG parse would read otherwise — surrounding spaces, a tab or newline, a
 * backslash, `http:host` without slashes, a percent-escape, a trailing dot or a non-ASCII letter in
 * the host, an IPv4 address not in dotted-quad form (`127.1`, `0x7f000001`, `0177.0.0.1`), a dot
 * segment in the path — is `UNUSUAL`: the caller parses it as the runtime will before matching.
 */
function scan(url: string): ScanResult {
  const n = url.length;
  if (n === 0) return NOT_AI;
  if (url.charCodeAt(0) <= 32 || url.charCodeAt(n - 1) <= 32) return UNUSUAL;
  const scheme = url.indexOf("://");
  if (scheme < 2 || scheme > 5) {
    // `http:host/…`, `http:/host`, `http:\\host`: special schemes need no slashes.
    const colon = url.indexOf(":");
    return colon >= 2 && colon <= 5 && isWebScheme(url, colon) ? UNUSUAL : NOT_AI;
  }
  if (!isWebScheme(url, scheme)) return NOT_AI;
  let start = scheme + 3;
  let end = start;
  let colon = -1;
  let label = start; // where the host's last label starts
  let upper = false;
  // Branches ordered by how often a character of an ordinary host takes them.
  for (; end < n; end++) {
    const c = url.charCodeAt(end);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 /* - */) continue;
    if (c === 46 /* . */) label = end + 1;
    else if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
    else if (c === 58 /* : */) colon = end;
    else if (c === 64 /* @ */) {
      start = label = end + 1;
      colon = -1;
    } else if (c >= 65 && c <= 90) upper = true;
    else if (
      c === 92 /* \ */ || c === 37 /* % */ || c === 91 /* [ */ || c > 126 || c < 33
    ) return UNUSUAL;
  }
  const hostEnd = colon === -1 ? end : colon;
  if (hostEnd === start || label >= hostEnd) return UNUSUAL; // empty, a trailing dot, `host:1.2`
  // A host whose last label starts with a digit is read as an IPv4 number in any of its forms.
  const first = url.charCodeAt(label);
  if (first >= 48 && first <= 57 && !isDottedQuad(url, start, hostEnd)) return UNUSUAL;
  let pathEnd = end;
  for (; pathEnd < n; pathEnd++) {
    const c = url.charCodeAt(pathEnd);
    if (c > 63 /* ? */) {
      if (c === 92 /* \ */) return UNUSUAL;
    } else if (c === 47 /* / */) {
      // `/./`, `/../` and their escapes are resolved away before sending.
      const next = url.charCodeAt(pathEnd + 1);
      if (next === 46 || next === 37) return UNUSUAL;
    } else if (c === 63 || c === 35) break;
    else if (c < 32) return UNUSUAL;
  }
  if (mayBeAnyHostPath(url, end, pathEnd)) return MAYBE_AI;
  let authority = url.slice(start, end);
  if (upper) authority = authority.toLowerCase();
  const hostname = colon === -1 ? authority : authority.slice(0, colon - start);
  return providerForHost(hostname, authority) === null ? NOT_AI : MAYBE_AI;
}

/**
 * The URL the runtime sends to, from text its WHATWG parse reads otherwise than a plain scan:
 * whitespace and tabs removed, backslashes read as slashes, the host lowercased, decoded, in IDNA
 * and dotted-quad form without its trailing dot (DNS ignores it), dot segments resolved; no
 * credentials and no fragment, neither of which is sent. `null` when it is no http(s) or ws(s) URL
 * the runtime would send.
 */
function parsedUrl(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const { protocol } = parsed;
  if (protocol !== "http:" && protocol !== "https:" && protocol !== "ws:" && protocol !== "wss:") {
    return null;
  }
  let host = parsed.hostname;
  if (host.endsWith(".")) host = host.slice(0, -1);
  return `${protocol}//${host}${
    parsed.port ? `:${parsed.port}` : ""
  }${parsed.pathname}${parsed.search}`;
}

/**
 * An absolute URL as the runtime will send it: the string itself when a plain scan reads it as the
 * runtime does (nearly always), else its WHATWG parse (see {@link scan}); `null` when no http(s) or
 * ws(s) request could be made to it.
 *
 * @example A host the runtime reads as 127.0.0.1
 * ```ts
 * import { sentUrl } from "./providers.ts";
 * sentUrl("http://127.1:8080/v1/chat/completions"); // "http://127.0.0.1:8080/v1/chat/completions"
 * ```
 */
export function sentUrl(url: string): string | null {
  return scan(url) === UNUSUAL ? parsedUrl(url) : url;
}

interface UrlParts {
  hostname: string;
  host: string;
  port: number | null;
  path: string;
}

/**
 * Splits an absolute http(s) or ws(s) URL with string scans only: this runs for every fetch of the host app,
 * and `new URL()` costs several times more (bench/NOTES.md).
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

/**
 * The facts of a request a transport is about to send, from the registry's match: `what` opens the
 * target (`fetch POST`, `http2 GET`), the server and path follow; the model is the one the path
 * names unless the transport read it elsewhere. A WebSocket with no operation of its own is a
 * realtime session.
 *
 * @example
 * ```ts
 * import { matchUrl, transportFacts } from "./providers.ts";
 * const match = matchUrl("https://api.openai.com/v1/chat/completions", [])!;
 * transportFacts(match, "fetch", "fetch POST").target; // "fetch POST api.openai.com/v1/chat/completions"
 * ```
 */
export function transportFacts(
  match: ProviderMatch,
  detector: Detector,
  what: string,
  model: string | null = modelFromPath(match.path),
): CallFacts {
  return {
    provider: match.provider,
    operation: match.operation ?? (detector === "websocket" ? "realtime" : null),
    model,
    target: `${what} ${match.server}${match.path}`,
    detector,
    server: match.server,
    port: match.port,
  };
}

/** Where a call goes, as records name it. */
export interface ServerFacts {
  /** Host name without port; `null` when unknown. */
  server: string | null;
  port: number | null;
}

/**
 * The server and port of an SDK client's base URL, as records name them: `null`s for anything but
 * an absolute http(s) or ws(s) URL (an SDK whose base URL is unset or not read).
 *
 * @example
 * ```ts
 * import { serverOf } from "./providers.ts";
 * serverOf("https://api.mistral.ai/v1"); // { server: "api.mistral.ai", port: 443 }
 * ```
 */
export function serverOf(baseUrl: unknown): ServerFacts {
  const parts = typeof baseUrl === "string" && baseUrl !== "" ? splitUrl(baseUrl) : null;
  return { server: parts?.hostname ?? null, port: parts?.port ?? null };
}

function ruleMatches(rule: ProviderRule, parts: UrlParts, path: string): boolean {
  if (rule.host !== undefined) {
    if (typeof rule.host === "string") {
      const host = rule.host.toLowerCase();
      if (host !== parts.hostname && host !== parts.host) return false;
    } else if (!rule.host.test(parts.host)) return false;
  }
  if (rule.path !== undefined) {
    if (typeof rule.path === "string") {
      if (!path.endsWith(matchedPath(rule.path))) return false;
    } else if (!rule.path.test(path) && !rule.path.test(parts.path)) return false;
  }
  return rule.host !== undefined || rule.path !== undefined;
}

/**
 * Classifies a request URL, read as the runtime will send it (see {@link sentUrl}): a provider
 * match for an AI call, `null` for anything else. User rules come first, then known provider hosts,
 * then OpenAI-compatible paths on any host. Paths match with or without trailing slashes.
 *
 * @example
 * ```ts
 * import { matchUrl } from "./providers.ts";
 * matchUrl("https://API.OpenAI.com./v1/chat/completions/", [])?.provider; // "openai"
 * ```
 */
export function matchUrl(url: string, rules: readonly ProviderRule[]): ProviderMatch | null {
  let found = scan(url);
  if (found === UNUSUAL) {
    const parsed = parsedUrl(url);
    if (parsed === null) return null;
    url = parsed;
    found = scan(url) === NOT_AI ? NOT_AI : MAYBE_AI;
  }
  // The hot path for ordinary traffic: no split, no allocation beyond the authority string.
  if (rules.length === 0 && found === NOT_AI) return null;
  const parts = splitUrl(url);
  if (parts === null) return null;
  const path = matchedPath(parts.path);
  for (const rule of rules) {
    if (ruleMatches(rule, parts, path)) {
      return {
        provider: rule.provider,
        operation: rule.operation ?? operationForPath(path),
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
      operation: operationForPath(path),
      server: parts.hostname,
      port: parts.port,
      path: parts.path,
    };
  }
  if (!ANY_HOST_PATHS.test(path)) return null;
  return {
    provider: "openai_compatible",
    operation: operationForPath(path),
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
