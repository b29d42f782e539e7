/**
 * URL kinds: whether a URL's text (holes as `*`) reaches an AI API, and which: a provider host the
 * registry knows (`src/detect/providers.ts`), an OpenAI-compatible path behind any base, an
 * inference server's or a provider's own API path; a provider's account API is none.
 *
 * @module
 */
import { isCompatiblePath, matchUrl, operationForPath } from "../detect/providers.ts";
import type { SiteFacts } from "./site_facts.ts";
import type { UrlText } from "./values.ts";

/**
 * The APIs of inference servers a team runs itself, under a base URL the code is configured with:
 * Hugging Face TGI (`/generate_stream`) and TEI (`/embed`, `/rerank`), llama.cpp's server
 * (`/completion`). Only the whole path after the base counts (`${apiBase}/embed`,
 * `new URL("embed", apiBase)`), so `/videos/${id}/embed` is none, nor an app's own `/completion`.
 */
const INFERENCE_SERVER_PATHS: ReadonlyArray<
  [path: RegExp, provider: string, operation: string | null]
> = [
  [/^\/(?:generate|generate_stream)$/, "huggingface", "text_completion"],
  [/^\/(?:embed|embed_all)$/, "huggingface", "embeddings"],
  [/^\/rerank$/, "openai_compatible", null],
  [/^\/completion$/, "openai_compatible", "text_completion"],
];

/**
 * Paths only one provider's API has, wherever they end a URL: behind any base, and behind an
 * app's own proxy route (`/api/stability/v2beta/stable-image/generate/${model}`). `*` in a text is
 * a hole (a deployment id, a model).
 */
const PROVIDER_API_PATHS: ReadonlyArray<
  [path: RegExp, provider: string, operation: string | null]
> = [
  [
    /\/ml\/v1\/(?:deployments\/[^/]+\/)?text\/(?:generation|chat)(?:_stream)?$/,
    "ibm.watsonx.ai",
    "chat",
  ],
  [/\/ml\/v1\/text\/(?:embeddings|rerank)$/, "ibm.watsonx.ai", "embeddings"],
  // Gemini's REST API under a configured base (a proxy): a model's method after a colon.
  [
    /\/v1(?:beta|alpha)?\/(?:tuned)?[mM]odels\/[^/]+:(?:stream)?[gG]enerateContent\*?$/,
    "gcp.gemini",
    "generate_content",
  ],
  [
    /\/v1(?:beta|alpha)?\/(?:tuned)?[mM]odels\/[^/]+:(?:batchE|e)mbedContents?\*?$/,
    "gcp.gemini",
    "embeddings",
  ],
  [
    /\/v2beta\/stable-image\/(?:generate|edit|upscale|control)\/[^/]+$/,
    "stability",
    "generate_content",
  ],
];

/** The inference-server or provider API a URL's text (no query string) calls, if any. */
function apiPathOf(
  text: string,
  exact: boolean,
): { path: string; provider: string; operation: string | null } | null {
  let path: string;
  let afterBase = true;
  if (text.startsWith("*")) path = text.slice(1);
  else if (text.startsWith("/")) {
    path = text;
    afterBase = false;
  } else if (exact && text.includes("://")) {
    const start = text.indexOf("/", text.indexOf("://") + 3);
    if (start === -1) return null;
    path = text.slice(start);
  } else return null;
  for (const [pattern, provider, operation] of PROVIDER_API_PATHS) {
    if (pattern.test(path)) return { path, provider, operation };
  }
  if (!afterBase) return null;
  for (const [pattern, provider, operation] of INFERENCE_SERVER_PATHS) {
    if (pattern.test(path)) return { path, provider, operation };
  }
  return null;
}

/**
 * Paths of a provider's account API, not its models': signing in, exchanging or listing keys,
 * billing (OpenRouter's `/api/v1/auth/keys`, Baidu's `/oauth/2.0/token`). A request there is no
 * AI call, whatever the host.
 */
const ACCOUNT_PATH =
  /\/(?:auth|oauth|oauth2|login|token|keys?|api-keys|credits|billing|balance|usage|user|account|dashboard)(?:\/|$)/;

/** A scheme and a host with no hole in it, up to the path, a query, a fragment or the end. */
const WRITTEN_HOST = /^[a-z][a-z0-9+.-]*:\/\/[^*/?#]+(?:[/?#]|$)/i;

/**
 * A host whose written end names a domain, holes before it (`${resource}.openai.azure.com`,
 * `${region}-aiplatform.googleapis.com`): the holes are labels or parts of labels.
 */
const HOLED_HOST =
  /^([a-z][a-z0-9+.-]*:\/\/)([a-z0-9.*-]*\*[a-z0-9-]*\.[a-z0-9.-]*[a-z0-9])([/?#].*)?$/is;
/^([a-z][a-z0-9+.-]*:\/\/)([a-z0-9.*-]*\*[a-z0-9-]*\.[a-z0-9.-]*[a-z0-9])([/?#]|$)/i;

/** What stands for a hole in a host while the registry reads it (a DNS label of its own). */
const HOLE_LABEL = "aiguard-hole";

/** A URL's text with its doubled slashes made one (not the scheme's `//`), as servers read it. */
export function singleSlashes(text: string): string {
  return text.replace(/(^|[^:])\/\/+/g, "$1/");
}

/**
 * The best classification of a URL's possible texts: a provider host first, then an AI path.
 *
 * @example
 * ```ts
 * import { classifyUrl } from "./url_kinds.ts";
 * classifyUrl([{ text: "*\/v1/chat/completions", exact: false }], "POST", "fetch")?.provider;
 * // "openai_compatible"
 * ```
 */
export function classifyUrl(urls: UrlText[], method: string, via: string): SiteFacts | null {
  let host: SiteFacts | null = null;
  let path: SiteFacts | null = null;
  for (const u of urls) {
    const facts = classifyText(u, method, via);
    if (!facts) continue;
    if (facts.provider === "openai_compatible") path ??= facts;
    else if (facts.confidence === "high") return facts;
    else host ??= facts;
  }
  return host ?? path;
}

/**
 * What one URL text calls, if an AI API: the registry decides an absolute URL (a provider's
 * account API aside; on a host written out, only the OpenAI-compatible API's own endings besides);
 * a path behind an unknown base is an OpenAI-compatible call when the path is an AI one, or an
 * inference server's or a provider's own API path.
 *
 * @example
 * ```ts
 * import { classifyText } from "./url_kinds.ts";
 * classifyText({ text: "https://openrouter.ai/api/v1/auth/keys", exact: true }, "POST", "fetch"); // null
 * ```
 */
export function classifyText(found: UrlText, method: string, via: string): SiteFacts | null {
  const text = singleSlashes(found.text);
  const holed = HOLED_HOST.exec(text);
  if (holed !== null) {
    // Holes in a host whose domain is written: the registry reads the host with a label for each
    // (its patterns stand for any label there); a provider it names is the host's whatever fills
    // them. A host it does not name is read as a base URL from elsewhere, below.
    const [, scheme, host, rest = ""] = holed;
    const match = matchUrl(
      `${scheme}${host!.replaceAll("*", HOLE_LABEL)}${rest.replaceAll("*", "x")}`,
      [],
    );
    if (match && match.provider !== "openai_compatible" && !ACCOUNT_PATH.test(match.path)) {
      return {
        provider: match.provider,
        library: via,
        operation: match.operation,
        confidence: "high",
        target: `${via} ${method} ${match.server.replaceAll(HOLE_LABEL, "*")}${
          rest.split(/[?#]/)[0]
        }`,
      };
    }
  }
  if (found.exact || !/^\*|^[^*]*\*[^*]*:\/\//.test(text)) {
    // An absolute URL (a hole after the host at most): the registry decides.
    // The host ends at the path, or at a query string right after it (`${BASE}${path}?key=…`).
    const authority = text.indexOf("://") + 3;
    const afterHost = text.slice(authority).search(/[/?#]/);
    const hostEnd = afterHost === -1 ? -1 : authority + afterHost;
    const host = hostEnd === -1 ? text : text.slice(0, hostEnd);
    // A hole right after the host is the path's start (`${PROVIDER_BASE}${path}`).
    const clean = host.endsWith("*") && !host.slice(0, -1).includes("*")
      ? `${host.slice(0, -1)}/*${hostEnd === -1 ? "" : text.slice(hostEnd)}`
      : text;
    const match = /^[a-z][a-z0-9+.-]*:\/\/[^*]/i.test(clean) ? matchUrl(clean, []) : null;
    if (match && !ACCOUNT_PATH.test(match.path.split("?")[0]!)) {
      const hostKnown = !host.slice(0, -1).includes("*");
      return {
        provider: match.provider,
        library: via,
        operation: match.operation,
        confidence: found.exact || hostKnown ? "high" : "low",
        target: `${via} ${method} ${match.server}${match.path}`,
      };
    }
  }
  // A base URL from elsewhere and an AI path here: an OpenAI-compatible call, host unknown. On a
  // host written out (holes in the path at most) the registry has read the path on that host:
  // what it leaves out is the host's own route (kimi.moonshot.cn's `/api/chat`), and only the
  // OpenAI-compatible API's own endings stay an AI call (`api.githubcopilot.com/chat/completions`).
  const written = WRITTEN_HOST.test(text)
    ? text.slice(text.indexOf("://") + 3).split(/[?#]/)[0]!
    : null;
  // Behind a base from elsewhere, the path is what follows its last hole before the query (a
  // query's holes, `?api-version=${v}`, are no part of it).
  const beforeQuery = text.split("?")[0]!;
  const path = written === null
    ? beforeQuery.slice(beforeQuery.lastIndexOf("*") + 1)
    : written.slice(written.includes("/") ? written.indexOf("/") : written.length);
  const operation = operationForPath(path);
  if (
    operation !== null &&
    (isCompatiblePath(path) || (written === null && matchUrl(`http://host${path}`, []) !== null))
  ) {
    return {
      provider: "openai_compatible",
      library: via,
      operation,
      confidence: "low",
      target: `${via} ${method} ${written ?? path}`,
    };
  }
  // A query string with holes (`?version=${v}`) is no part of an API's path.
  const server = apiPathOf(text.split("?")[0]!, found.exact);
  if (server === null) return null;
  return {
    provider: server.provider,
    library: via,
    operation: server.operation,
    confidence: "low",
    target: `${via} ${method} ${server.path}`,
  };
}
