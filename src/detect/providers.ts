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
  ["api.elevenlabs.io", "elevenlabs"],
  ["api.us.elevenlabs.io", "elevenlabs"],
  ["api.eu.residency.elevenlabs.io", "elevenlabs"],
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
  ["localhost:11434", "ollama"],
  ["127.0.0.1:11434", "ollama"],
  // Gateways: the provider behind them is not known from the host alone.
  ["ai-gateway.vercel.sh", "vercel.ai_gateway"],
  ["gateway.ai.cloudflare.com", "cloudflare.ai_gateway"],
  ["oai.helicone.ai", "helicone"],
  ["api.portkey.ai", "portkey"],
  ["api.302.ai", "302ai"],
];

/**
 * Hosts where only some paths are AI calls, each rule a host and the whole paths of the requests
 * that carry a prompt to the model (`{segment}` stands for one path segment); every other request
 * to the host stays ordinary traffic, and so does the same path on another host.
 *
 * Web-chat backends: the private APIs behind chat sites (chatgpt.com, claude.ai,
 * gemini.google.com, …) that browser extensions and multi-bot desktop apps call with a signed-in
 * session (SSE and WebSocket hubs included). A host rule would make every page of such a site an AI
 * call. Their provider names are `vendor.app_web`, the vendor as the registry names its API; the
 * operation is `chat`. Left out: Poe (one GraphQL path for every query, the message mutation told
 * apart only by the body) and Gradio apps (`/queue/join` on any app's host).
 *
 * APIs that share their host with other services: Ollama's cloud API (ollama.com is also its
 * website: the model library's pages, `/search`), GitHub Copilot's model API
 * (`api.githubcopilot.com` also serves GitHub's MCP server and the model list); the operation is
 * the path's (`/embeddings`).
 */
const WHOLE_PATH_RULES: ReadonlyArray<
  [
    provider: string,
    hosts: readonly string[],
    paths: readonly string[],
    /** The operation when the path names none (`chat` unless given). */
    operation?: string,
  ]
> = [
  ["openai.chatgpt_web", ["chatgpt.com", "chat.openai.com"], [
    "/backend-api/conversation",
    "/backend-api/f/conversation",
    "/backend-anon/conversation",
    "/backend-anon/f/conversation",
    // Codex signed in with a ChatGPT plan: the Responses API under the site's backend.
    "/backend-api/codex/responses",
  ]],
  ["anthropic.claude_web", ["claude.ai"], [
    "/api/organizations/{segment}/chat_conversations/{segment}/completion",
    "/api/organizations/{segment}/chat_conversations/{segment}/retry_completion",
    "/api/append_message",
    "/api/retry_message",
  ]],
  ["google.gemini_web", ["gemini.google.com", "bard.google.com"], [
    "/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate",
  ]],
  ["microsoft.copilot_web", ["sydney.bing.com"], ["/sydney/ChatHub"]],
  ["microsoft.copilot_web", ["copilot.microsoft.com"], ["/c/api/chat"]],
  ["moonshot.kimi_web", ["kimi.moonshot.cn", "kimi.com", "www.kimi.com"], [
    "/api/chat/{segment}/completion/stream",
  ]],
  ["zhipu.chatglm_web", ["chatglm.cn"], [
    "/chatglm/backend-api/assistant/stream",
    "/chatglm/backend-api/v1/stream_context",
  ]],
  ["deepseek.deepseek_web", ["chat.deepseek.com"], ["/api/v0/chat/completion"]],
  // The answer stream, and the socket.io hub the older web app asked on.
  ["perplexity.perplexity_web", ["www.perplexity.ai", "perplexity.ai", "labs-api.perplexity.ai"], [
    "/rest/sse/perplexity_ask",
    "/socket.io",
  ]],
  ["inflection.pi_web", ["pi.ai"], ["/api/chat"]],
  ["character_ai.character_web", ["neo.character.ai"], ["/ws"]],
  ["huggingface.huggingchat_web", ["huggingface.co"], ["/chat/conversation/{segment}"]],
  ["mistral_ai.le_chat_web", ["chat.mistral.ai"], ["/api/chat"]],
  ["you.you_web", ["you.com"], ["/api/streamingSearch"]],
  ["phind.phind_web", ["www.phind.com", "phind.com"], [
    "/api/infer/answer",
    "/api/infer/followup/rewrite",
  ]],
  ["alibaba.qianwen_web", ["qianwen.biz.aliyun.com"], ["/dialog/conversation"]],
  ["alibaba.qianwen_web", ["qianwen.aliyun.com"], ["/conversation"]],
  ["baichuan.baichuan_web", ["www.baichuan-ai.com", "baichuan-ai.com"], ["/api/chat/v1/chat"]],
  // Grok on X (the same path on each of X's API hosts), and grok.com's own app.
  ["x_ai.grok_web", ["grok.x.com", "api.x.com", "api.twitter.com"], ["/2/grok/add_response.json"]],
  ["x_ai.grok_web", ["grok.com"], [
    "/rest/app-chat/conversations/new",
    "/rest/app-chat/conversations/{segment}/responses",
  ]],
  ["iflytek.spark_web", ["xinghuo.xfyun.cn"], ["/iflygpt-chat/u/chat_message/chat"]],
  ["qihoo360.zhinao_web", ["chat.360.com"], ["/backend-api/api/common/chat"]],
  ["fudan.moss_web", ["moss.fastnlp.top"], ["/api/ws/chats/{segment}/records"]],
  // The first turn's prompt goes with the new session; later ones to chat/chat.
  ["kunlun.tiangong_web", ["api-chat.tiangong.cn"], [
    "/api/v1/chat/chat",
    "/api/v1/session/newSession",
  ]],
  // Its own API, its OpenAI- and Anthropic-compatible paths, and System One (classification).
  ["ollama", ["ollama.com", "www.ollama.com"], [
    "/api/chat",
    "/api/generate",
    "/api/embed",
    "/api/embeddings",
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/responses",
    "/v1/messages",
    "/v1/systemone",
  ]],
  ["github.copilot", [
    "api.githubcopilot.com",
    "api.individual.githubcopilot.com",
    "api.business.githubcopilot.com",
    "api.enterprise.githubcopilot.com",
  ], ["/chat/completions", "/responses", "/embeddings", "/v1/messages"]],
  // Workers AI's REST API (`{rest}`: the model's id, `@cf/meta/llama-3.1-8b-instruct`; a model's
  // run is `generate_content`, whatever its task) and its OpenAI-compatible paths; the rest of the
  // host is Cloudflare's API (zones, DNS, the model catalogue).
  ["cloudflare.workers_ai", ["api.cloudflare.com"], [
    "/client/v4/accounts/{segment}/ai/run/{rest}",
    "/client/v4/accounts/{segment}/ai/v1/chat/completions",
    "/client/v4/accounts/{segment}/ai/v1/responses",
    "/client/v4/accounts/{segment}/ai/v1/embeddings",
  ], "generate_content"],
];

/**
 * Whole paths as one expression (`{segment}` one segment, `{rest}` one or more; trailing slashes
 * are trimmed first).
 */
function wholePathPattern(paths: readonly string[]): RegExp {
  const alternatives = paths.map((p) =>
    p.replace(/[.]/g, "\\.").replaceAll("{segment}", "[^/]+").replaceAll("{rest}", "[^/].*")
  );
  return new RegExp(`^(?:${alternatives.join("|")})$`);
}

/** The whole-path rules of each host. */
const WHOLE_PATH_HOSTS = new Map<
  string,
  Array<[pattern: RegExp, provider: string, operation: string]>
>();
for (const [provider, hosts, paths, operation = "chat"] of WHOLE_PATH_RULES) {
  const pattern = wholePathPattern(paths);
  for (const host of hosts) {
    const rows = WHOLE_PATH_HOSTS.get(host) ?? [];
    rows.push([pattern, provider, operation]);
    WHOLE_PATH_HOSTS.set(host, rows);
  }
}

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
 * after a base URL the scan cannot read (`${base}/chat/completions`). `siteRoutes` marks any-host
 * endings that web apps also use for their own routes (Ollama's `/api/chat`): on a web-chat host
 * they are the site's (kimi.moonshot.cn's `/api/chat` creates a chat), not an AI server's.
 */
const AI_PATHS: ReadonlyArray<{
  endings: readonly string[];
  operation: string | null;
  anyHost?: readonly string[];
  compatible?: true;
  siteRoutes?: true;
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
  {
    endings: ["/api/chat", "/v1/chat", "/v2/chat"],
    operation: "chat",
    anyHost: ["/api/chat"],
    siteRoutes: true,
  },
  {
    endings: ["/api/generate", "/v1/generate"],
    operation: "text_completion",
    anyHost: ["/api/generate"],
    siteRoutes: true,
  },
  { endings: ["/images/generations"], operation: "generate_content" },
  // ElevenLabs' speech (on its own hosts only): text to speech per voice, speech to text, effects.
  {
    endings: [
      "/text-to-speech/{segment}",
      "/text-to-speech/{segment}/stream",
      "/text-to-speech/{segment}/with-timestamps",
      "/text-to-speech/{segment}/stream/with-timestamps",
      "/speech-to-speech/{segment}",
      "/speech-to-speech/{segment}/stream",
      "/speech-to-text",
      "/sound-generation",
    ],
    operation: "generate_content",
  },
  // Speech and transcription on OpenAI-compatible servers (LocalAI, vLLM, a provider's proxy).
  {
    endings: ["/audio/speech", "/audio/transcriptions", "/audio/translations"],
    operation: "generate_content",
    anyHost: ["/v1/audio/speech", "/v1/audio/transcriptions", "/v1/audio/translations"],
    compatible: true,
  },
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

/**
 * Path endings as one expression anchored at the path's end; `flags` `"i"` for endings matched
 * without case.
 */
function endingPattern(endings: readonly string[], flags = ""): RegExp {
  const alternatives = endings.map((e) =>
    e.replace(/[.]/g, "\\.").replaceAll("{segment}", "[^/]+").replaceAll("{word}", "[a-z_]+")
  );
  return new RegExp(`(?:${alternatives.join("|")})$`, flags);
}

// Any-host endings (and the operations they name) are matched without case: servers that route
// without it (Express's default, Go's Fiber, ASP.NET) answer `/V1/Chat/Completions` as the endpoint.
const OPERATION_PATHS: ReadonlyArray<[pattern: RegExp, operation: string | null]> = AI_PATHS.map((
  row,
) => [endingPattern(row.endings, "i"), row.operation]);
const ANY_HOST_PATHS = endingPattern(AI_PATHS.flatMap((row) => row.anyHost ?? []), "i");
const SITE_ROUTE_PATHS = endingPattern(
  AI_PATHS.filter((row) => row.siteRoutes).flatMap((row) => row.anyHost ?? []),
  "i",
);
const COMPATIBLE_PATHS = endingPattern(
  AI_PATHS.filter((row) => row.compatible).flatMap((row) => row.endings),
);
/** `end` moved back over trailing slashes (`/v1/chat/completions/` is served as the same path). */
function trimSlashes(url: string, start: number, end: number): number {
  while (end - 1 > start && url.charCodeAt(end - 1) === 47 /* / */) end--;
  return end;
}

/**
 * `path` with its ASCII percent-escapes decoded: the parse leaves `/v1/chat/completion%73` as it
 * is, but the servers AI apps talk to route on the decoded path (Go's `net/http`, as Ollama; the
 * ASGI servers under vLLM and LiteLLM; `%2F` included), so the registry reads it decoded too.
 */
function unescapedPath(path: string): string {
  return path.includes("%")
    ? path.replace(
      /%([0-7][0-9a-fA-F])/g,
      (_, hex: string) => String.fromCharCode(parseInt(hex, 16)),
    )
    : path;
}

/** The path decoded and without trailing slashes, as the registry matches it. */
function matchedPath(path: string): string {
  path = unescapedPath(path);
  const end = trimSlashes(path, 0, path.length);
  return end === path.length ? path : path.slice(0, end);
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

/**
 * A set of string hashes kept as a bitmap. The scan asks it whether a host, a domain or a path's
 * last segment may be a known one without cutting a substring out of the URL (bench/NOTES.md):
 * "no" is final, "yes" (also a false one, for a few hosts in a thousand) sends the request on to
 * the exact lookup.
 */
class HashFilter {
  private readonly bits = new Int32Array(1 << 9); // 16,384 bits
  add(hash: number): void {
    this.bits[(hash >>> 5) & 511]! |= 1 << (hash & 31);
  }
  has(hash: number): boolean {
    return (this.bits[(hash >>> 5) & 511]! & (1 << (hash & 31))) !== 0;
  }
}

const FNV_OFFSET = 0x811c9dc5 | 0;
/** One step of FNV-1a (32 bits). */
function mix(hash: number, code: number): number {
  return Math.imul(hash ^ code, 0x01000193);
}

/** ASCII lowercase of a character code (hosts are matched without case). */
function lower(c: number): number {
  return c >= 65 && c <= 90 ? c | 32 : c;
}

/** The hash of `text.slice(start, end)` lowercased, read from its end (as hosts are judged). */
function hashHost(text: string, start: number, end: number): number {
  let hash = FNV_OFFSET;
  for (let i = end - 1; i >= start; i--) hash = mix(hash, lower(text.charCodeAt(i)));
  return hash;
}

/**
 * The hash of a path's last segment, `text.slice(start, end)` after its last `/`, `:` or `.`,
 * lowercased (any-host endings are matched without case).
 */
function hashTail(text: string, start: number, end: number): number {
  let hash = FNV_OFFSET;
  for (let i = end - 1; i >= start; i--) {
    const c = text.charCodeAt(i);
    if (c === 47 /* / */ || c === 58 /* : */ || c === 46 /* . */) break;
    hash = mix(hash, lower(c));
  }
  return hash;
}

/** The last two labels of a host name: most hosts are told apart from every provider's by them. */
function domainOf(name: string): string {
  return name.split(".").slice(-2).join(".");
}
/** Every exact provider host name that is one on any port. */
const HOST_NAMES = new HashFilter();
/** The last two labels of every provider host known on any port (`openai.com`, `azure.com`, …). */
const HOST_DOMAINS = new HashFilter();
/** … of the patterned ones (`azure.com`, `amazonaws.com`, …): any host under them may match. */
const HOST_PATTERN_DOMAINS = new HashFilter();
/** The ports of the hosts that are a provider's only on one port (`localhost:11434`). */
const HOST_PORTS = new Set<number>();
/**
 * The last segment of every any-host ending (after its last `/`, `:` or `.`): most ordinary paths
 * (`app.js`, `users`, `health`) are answered without running the expression.
 */
const ANY_HOST_TAILS = new HashFilter();

// The filters are filled with the first URL judged, not as the module loads: hashing every host
// runs the hash functions often enough for Bun's JIT to compile them, which costs the preload's
// start memory (bench/NOTES.md). Each reader checks `filled` first (hostVerdict, isAnyHostPath;
// HOST_PORTS is read only after hostVerdict).
let filled = false;
function fillFilters(): void {
  filled = true;
  for (const [host] of HOSTS) {
    const [name, port] = host.split(":") as [string, string | undefined];
    const domain = domainOf(name);
    // A wildcard there would need every host tried against the patterns.
    if (domain.includes("*")) throw new Error(`a host pattern's domain is a wildcard: ${host}`);
    if (port !== undefined) {
      // A provider only on that port: a request to the port goes to the exact lookup, whatever host.
      HOST_PORTS.add(Number(port));
      continue;
    }
    if (name.includes("*")) HOST_PATTERN_DOMAINS.add(hashHost(domain, 0, domain.length));
    else HOST_NAMES.add(hashHost(name, 0, name.length));
    HOST_DOMAINS.add(hashHost(domain, 0, domain.length));
  }
  // A whole-path host is no provider's by its name alone, but no request to it is proven ordinary
  // before its path is read: the scan sends it to the exact match as it does a provider host. Hosts
  // under its domain (www.google.com) now have their whole name hashed (bench/NOTES.md).
  for (const host of WHOLE_PATH_HOSTS.keys()) {
    if (EXACT_HOSTS.has(host) || providerForHost(host, host) !== null) {
      throw new Error(`a whole-path host is a provider host too: ${host}`);
    }
    HOST_NAMES.add(hashHost(host, 0, host.length));
    HOST_DOMAINS.add(hashHost(domainOf(host), 0, domainOf(host).length));
  }
  for (const ending of AI_PATHS.flatMap((row) => row.anyHost ?? [])) {
    const tail = ending.slice(Math.max(...["/", ":", "."].map((s) => ending.lastIndexOf(s))) + 1);
    if (tail.includes("{")) throw new Error(`an any-host ending ends in a placeholder: ${ending}`);
    ANY_HOST_TAILS.add(hashTail(tail, 0, tail.length));
  }
}

/** How the scan reads a character of an authority (codes below 128; every other is odd). */
const ODD = 0;
const HOST_CHAR = 1;
const END = 2;
const COLON = 3;
const AT = 4;
const AUTHORITY = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  AUTHORITY[c] = /[a-zA-Z0-9._-]/.test(ch)
    ? HOST_CHAR
    : ch === "/" || ch === "?" || ch === "#"
    ? END
    : ch === ":"
    ? COLON
    : ch === "@"
    ? AT
    : ODD;
}

/** What {@link authorityStart} returns for a URL that is not http(s) or ws(s). */
const NOT_WEB = -1;
/** … and for one the runtime's parse may read otherwise than as written. */
const ODD_SCHEME = -2;

/**
 * Where the authority of an http(s) or ws(s) URL written `scheme://` starts (any case), or
 * {@link NOT_WEB}, or {@link ODD_SCHEME} for text the WHATWG parse may still read as one:
 * surrounding spaces, a tab or newline in the scheme, `http:host` without both slashes.
 */
function authorityStart(url: string): number {
  const n = url.length;
  if (n === 0) return NOT_WEB;
  if (url.charCodeAt(0) <= 32 || url.charCodeAt(n - 1) <= 32) return ODD_SCHEME;
  let colon: number;
  // `| 32` lowercases an ASCII letter; no other character turns into one of these.
  const c0 = url.charCodeAt(0) | 32;
  if (
    c0 === 104 /* h */ && (url.charCodeAt(1) | 32) === 116 && (url.charCodeAt(2) | 32) === 116 &&
    (url.charCodeAt(3) | 32) === 112
  ) colon = (url.charCodeAt(4) | 32) === 115 ? 5 : 4;
  else if (c0 === 119 /* w */ && (url.charCodeAt(1) | 32) === 115) {
    colon = (url.charCodeAt(2) | 32) === 115 ? 3 : 2;
  } else return otherScheme(url);
  if (url.charCodeAt(colon) !== 58 /* : */) return otherScheme(url);
  // Special schemes need no slashes (`http:host`, `http:/host`, `http:\\host`).
  if (url.charCodeAt(colon + 1) !== 47 || url.charCodeAt(colon + 2) !== 47) return ODD_SCHEME;
  return colon + 3;
}

/** A scheme written otherwise: the parse removes tabs and newlines, so `ht\ttp:` is `http:`. */
function otherScheme(url: string): number {
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 9 || c === 10 || c === 13) return ODD_SCHEME;
    if (c === 58 /* : */ || c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
  }
  return NOT_WEB;
}

/**
 * Whether `text.slice(start, end)` is an IPv4 address the way WHATWG writes one: four decimal parts,
 * no zero-padding.
 */
function isDottedQuad(text: string, start: number, end: number): boolean {
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : text.charCodeAt(i);
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
 * A host of host characters only, judged from its end: `UNUSUAL` when empty, with a trailing dot,
 * or an IPv4 number in another form than dotted-quad (a last label that starts with a digit:
 * `127.1`, `0x7f000001`, `0177.0.0.1`); `NOT_AI` when its last two labels are no provider host's
 * (nearly every host: the rest of it is not read); else `MAYBE_AI` when it may be a provider's.
 */
function hostVerdict(text: string, start: number, end: number): ScanResult {
  if (end === start) return UNUSUAL;
  let hash = FNV_OFFSET;
  let label = start;
  let dots = 0;
  let i = end - 1;
  for (; i >= start; i--) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (dots === 0) label = i + 1;
      if (++dots === 2) break;
    }
    hash = mix(hash, lower(c));
  }
  if (label === end) return UNUSUAL; // a trailing dot
  const first = text.charCodeAt(label);
  if (first >= 48 && first <= 57 && !isDottedQuad(text, start, end)) return UNUSUAL;
  if (!filled) fillFilters();
  if (!HOST_DOMAINS.has(hash)) return NOT_AI;
  if (HOST_PATTERN_DOMAINS.has(hash)) return MAYBE_AI;
  for (; i >= start; i--) hash = mix(hash, lower(text.charCodeAt(i)));
  return HOST_NAMES.has(hash) ? MAYBE_AI : NOT_AI;
}

/** The port `text.slice(start, end)` names, or -1 unless it is a port written as the parse writes it. */
function portNumber(text: string, start: number, end: number): number {
  if (end === start || end - start > 5 || (text.charCodeAt(start) === 48 && end - start > 1)) {
    return -1;
  }
  let port = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    port = port * 10 + c - 48;
  }
  return port > 65535 ? -1 : port;
}

/**
 * Where a path starting at `start` ends (`?`, `#` or the end of the text), or -1 when the parse
 * may read it otherwise: a backslash, a tab or newline, a dot segment or its escape (`/./`,
 * `/../`, `/%2e/`), which are resolved before sending.
 */
function pathEnd(text: string, start: number): number {
  const n = text.length;
  let i = start;
  pathEscaped = false;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 63 /* ? */) {
      if (c === 92 /* \ */) return -1;
    } else if (c === 47 /* / */) {
      const next = text.charCodeAt(i + 1);
      if (next === 46 /* . */ || next === 37 /* % */) return -1;
    } else if (c === 63 || c === 35 /* # */) break;
    else if (c < 32) return -1;
    else if (c === 37 /* % */) pathEscaped = true;
  }
  return i;
}

/** Set by {@link pathEnd}: whether the path it read holds a percent-escape. */
let pathEscaped = false;

/**
 * Whether `text.slice(start, end)` (a path that {@link pathEnd} just read) is an AI path on any
 * host, read decoded (see {@link unescapedPath}).
 */
function isAnyHostPath(text: string, start: number, end: number): boolean {
  if (pathEscaped) {
    text = unescapedPath(text.slice(start, end));
    start = 0;
    end = text.length;
  }
  end = trimSlashes(text, start, end);
  if (!filled) fillFilters();
  return ANY_HOST_TAILS.has(hashTail(text, start, end)) &&
    ANY_HOST_PATHS.test(text.slice(start, end));
}

/** Set by {@link scan}: where the authority it read ends, -1 when it read none. */
let authorityEnd = -1;

/**
 * Classifies a URL string as it is written, in one pass and without a substring: ordinary
 * traffic leaves with `NOT_AI`. Any text the runtime's WHATWG parse would read otherwise —
 * surrounding spaces, a tab or newline, a backslash, `http:host` without slashes, a percent-escape,
 * a trailing dot or a non-ASCII letter in the host, an IPv4 address not in dotted-quad form
 * (`127.1`, `0x7f000001`, `0177.0.0.1`), a zero-padded port, a dot segment in the path — is
 * `UNUSUAL`: the caller parses it as the runtime will before matching.
 */
function scan(url: string): ScanResult {
  authorityEnd = -1;
  const start = authorityStart(url);
  if (start < 0) return start === NOT_WEB ? NOT_AI : UNUSUAL;
  const n = url.length;
  let hostStart = start;
  let i = start;
  let c = 0;
  for (; i < n; i++) {
    c = url.charCodeAt(i);
    const kind = c < 128 ? AUTHORITY[c] : ODD;
    if (kind === HOST_CHAR) continue;
    if (kind !== AT) break;
    hostStart = i + 1; // after credentials
  }
  const hostEnd = i;
  let port = -1;
  if (i < n && c === 58 /* : */) {
    const portStart = ++i;
    while (i < n && (c = url.charCodeAt(i)) >= 48 && c <= 57) i++;
    port = portNumber(url, portStart, i);
    if (port === -1) return UNUSUAL;
  }
  // Past the authority: only its end may follow (a `%`, `[`, `\`, a space, a password, … may not).
  if (i < n && (c >= 128 || AUTHORITY[c] !== END)) return UNUSUAL;
  authorityEnd = i;
  const end = pathEnd(url, i);
  if (end === -1) return UNUSUAL;
  const host = hostVerdict(url, hostStart, hostEnd);
  if (host !== NOT_AI) return host;
  return HOST_PORTS.has(port) || isAnyHostPath(url, i, end) ? MAYBE_AI : NOT_AI;
}

/**
 * Whether the request `http.request()` options name — `protocol`, `hostname`, `port` (a number,
 * digits, or `""` for none), `path` — is proven ordinary traffic as {@link matchUrl} with no rules
 * judges `${protocol}//${hostname}:${port}${path}`, without joining that string: `false` means
 * "join and match" (an AI call, or parts the scan cannot read as written).
 *
 * @example
 * ```ts
 * import { isOrdinaryRequest } from "./providers.ts";
 * isOrdinaryRequest("http:", "127.0.0.1", "8080", "/static/app.js?v=3"); // true
 * isOrdinaryRequest("https:", "api.openai.com", "", "/v1/models"); // false
 * ```
 */
export function isOrdinaryRequest(
  protocol: string,
  hostname: string,
  port: string | number,
  path: string,
): boolean {
  if (protocol !== "http:" && protocol !== "https:") return false;
  const n = hostname.length;
  for (let i = 0; i < n; i++) {
    const c = hostname.charCodeAt(i);
    if (c >= 128 || AUTHORITY[c] !== HOST_CHAR) return false;
  }
  const portValue = typeof port === "number"
    ? (Number.isInteger(port) && port >= 0 && port <= 65535 ? port : -1)
    : port === ""
    ? 0
    : portNumber(port, 0, port.length);
  if (portValue === -1) return false;
  return hostVerdict(hostname, 0, n) === NOT_AI && !HOST_PORTS.has(portValue) &&
    isOrdinaryPath(path);
}

/**
 * Whether an origin (`scheme://host[:port]`, no path) is proven to be no provider's by its host and
 * port, as {@link matchUrl} with no rules judges them: a verdict a connection or session can keep
 * for every request on it, which then needs only {@link isOrdinaryPath}.
 *
 * @example
 * ```ts
 * import { isOrdinaryOrigin } from "./providers.ts";
 * isOrdinaryOrigin("http://127.0.0.1:8080"); // true
 * isOrdinaryOrigin("https://api.openai.com"); // false
 * ```
 */
export function isOrdinaryOrigin(origin: string): boolean {
  // No authority read: not an http(s) or ws(s) origin, where no path makes an AI call.
  return scan(origin) === NOT_AI && (authorityEnd === -1 || authorityEnd === origin.length);
}

/**
 * Whether a request path (`/a/b?q`) on an origin {@link isOrdinaryOrigin} proves ordinary is
 * ordinary too: `origin + path` is then no AI call for {@link matchUrl} with no rules.
 *
 * @example
 * ```ts
 * import { isOrdinaryPath } from "./providers.ts";
 * isOrdinaryPath("/static/app.js?v=3"); // true
 * isOrdinaryPath("/v1/chat/completions/"); // false
 * ```
 */
export function isOrdinaryPath(path: string): boolean {
  // A path must start the path (`?q` or `x` would end or lengthen the host); trailing spaces are
  // trimmed by the parse.
  if (path.charCodeAt(0) !== 47 /* / */ || path.charCodeAt(path.length - 1) <= 32) return false;
  const end = pathEnd(path, 0);
  return end !== -1 && !isAnyHostPath(path, 0, end);
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

/**
 * The AI call a request to a whole-path host makes, if any: only when its whole path (`path`,
 * trailing slashes trimmed) is one of the host's `rules`. The operation is the path's, else the
 * rule's (`chat` for a web chat, whose own paths name none).
 */
function wholePathMatch(
  rules: ReadonlyArray<[pattern: RegExp, provider: string, operation: string]>,
  parts: UrlParts,
  path: string,
): ProviderMatch | null {
  for (const [pattern, provider, operation] of rules) {
    if (pattern.test(path)) {
      return {
        provider,
        operation: operationForPath(path) ?? operation,
        server: parts.hostname,
        port: parts.port,
        path: parts.path,
      };
    }
  }
  return null;
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
 * then whole-path rules (web-chat backends, GitHub Copilot's API: host and whole path; on their
 * hosts the endings web apps share with their own routes, `/api/chat`, are the site's), then AI
 * paths on any host. Paths match with or without trailing slashes.
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
  const chats = WHOLE_PATH_HOSTS.get(parts.hostname);
  if (chats !== undefined) {
    const chat = wholePathMatch(chats, parts, path);
    // Its other requests are the site's own, but an OpenAI-compatible or Gemini path stays an AI
    // call there as anywhere: only the endings web apps share with their own routes are the site's.
    if (chat !== null || SITE_ROUTE_PATHS.test(path)) return chat;
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
