/**
 * Stainless clients: openai (also `AzureOpenAI`), @anthropic-ai/sdk, groq-sdk, together-ai. One
 * recording hook on the client's `methodRequest` (every request of every resource goes through it),
 * site entries on the resource methods (`create`, `stream`, …) where the application frame is still
 * on the stack, and the transport's `fetchWithTimeout` to end spans.
 *
 * @module
 */
import type { GuardCore } from "../layer.ts";
import { ownerOf } from "../patcher.ts";
import { operationForPath, serverOf } from "../providers.ts";
import type { CallFacts } from "../../report/record.ts";
import { type Describe, type Fn, recordingHook, siteHook, transportHook } from "./hooks.ts";
import { catalogClient, catalogEntry, probeClient, providerOf, type SdkFamily } from "./family.ts";

const TARGETS: ReadonlyArray<[suffix: string, target: string]> = [
  ["/chat/completions", "chat.completions.create"],
  ["/completions", "completions.create"],
  ["/embeddings", "embeddings.create"],
  ["/responses", "responses.create"],
  ["/messages/count_tokens", "messages.countTokens"],
  ["/messages", "messages.create"],
  ["/complete", "completions.create"],
  ["/images/generations", "images.generate"],
  ["/audio/speech", "audio.speech.create"],
  ["/audio/transcriptions", "audio.transcriptions.create"],
  ["/moderations", "moderations.create"],
  ["/rerank", "rerank.create"],
];

/** The Stainless-built packages in the catalog. */
const ENTRIES = ["openai", "@anthropic-ai/sdk", "groq-sdk", "together-ai"].map(catalogEntry);

/**
 * The resource methods the catalog names for these SDKs (`create` of `chat.completions.create`):
 * each takes the call site at its entry.
 */
const SITE_METHODS = [
  ...new Set(
    ENTRIES.flatMap((entry) => Object.keys(entry.methods).map((p) => p.split(".").pop()!)),
  ),
];

interface Names {
  /** The first word of targets: the catalog's name for the client class (`azure_openai`). */
  sdk: string;
  provider: string;
}

/**
 * What the catalog calls a client class and its provider; a Stainless client it does not list
 * (another SDK of the same generator) goes by its lowercased class name.
 */
function namesOf(ctor: unknown): Names {
  const client = typeof ctor === "function" ? catalogClient(ENTRIES, ctor as Fn) : null;
  if (client) {
    return { sdk: client.entry.clients[client.className]!, provider: providerOf(client) };
  }
  const lower = ((ctor as { name?: string } | null)?.name ?? "").toLowerCase();
  return { sdk: lower || "sdk", provider: lower || "unknown" };
}

type Route = Omit<CallFacts, "model">;

/** `url` without the slashes it ends with (as `/\/+$/` would cut, with no regular expression). */
function withoutTrailingSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 47 /* / */) end--;
  return end === url.length ? url : url.slice(0, end);
}
const ROUTES_MAX = 256;

function describeStainless(core: GuardCore): Describe {
  // A client sends the same few requests over and over: remember what each route is (bounded).
  const routes = new Map<string, Route>();
  const names = new WeakMap<object, Names>();
  let rulesSeen: unknown = null;
  const route = (self: object, method: string, baseURL: string, path: string): Route => {
    const rules = core.rules();
    if (rules !== rulesSeen) {
      routes.clear(); // the guard was reconfigured: its provider rules may name routes differently
      rulesSeen = rules;
    }
    const ctor = (self as { constructor?: object }).constructor ?? self;
    let named = names.get(ctor);
    if (!named) names.set(ctor, named = namesOf(ctor));
    const key = `${named.sdk} ${method} ${baseURL}${path}`;
    let known = routes.get(key);
    if (known === undefined) {
      const match = baseURL ? core.match(baseURL + path) : null;
      const name = TARGETS.find(([suffix]) => path.endsWith(suffix))?.[1] ??
        `${method.toLowerCase()} ${path}`;
      known = {
        provider: match && match.provider !== "openai_compatible" ? match.provider : named.provider,
        operation: operationForPath(path),
        target: `${named.sdk}.${name}`,
        detector: "sdk",
        ...serverOf(baseURL),
      };
      if (routes.size >= ROUTES_MAX) routes.clear();
      routes.set(key, known);
    }
    return known;
  };
  return (self, args) => {
    const [method, rawPath, opts] = args as [string, string, { body?: { model?: unknown } }];
    const sent = String(rawPath ?? "");
    const query = sent.indexOf("?");
    const path = query === -1 ? sent : sent.slice(0, query);
    const baseURL = typeof self.baseURL === "string" ? withoutTrailingSlashes(self.baseURL) : "";
    const body = opts && typeof (opts as { then?: unknown }).then !== "function"
      ? opts.body
      : undefined;
    const model = typeof body?.model === "string" ? body.model : core.frame()?.call?.model ?? null;
    const known = route(self, String(method), baseURL, path);
    // Field by field: a spread of the remembered route is V8's slow way to copy six fields.
    return {
      provider: known.provider,
      operation: known.operation,
      model,
      target: known.target,
      detector: known.detector,
      server: known.server,
      port: known.port,
    };
  };
}

/** Resource objects of a probe client, to reach their methods on their prototypes. */
function resourcePrototypes(instance: object, depth = 2): object[] {
  const out: object[] = [];
  const seen = new Set<object>();
  const visit = (obj: object, level: number) => {
    for (const key of Object.keys(obj)) {
      if (key.startsWith("_")) continue;
      let value: unknown;
      try {
        value = (obj as Record<string, unknown>)[key];
      } catch {
        continue;
      }
      if (value === null || typeof value !== "object" || seen.has(value)) continue;
      seen.add(value);
      const proto = Object.getPrototypeOf(value);
      if (proto && proto !== Object.prototype) out.push(proto);
      if (level > 0) visit(value, level - 1);
    }
  };
  visit(instance, depth);
  return out;
}

/**
 * Stainless clients, known by the base client's `methodRequest` and `makeRequest`: one recording
 * hook there, site entries on the resource methods, and the transport's `fetchWithTimeout`.
 */
export const stainlessFamily: SdkFamily = {
  name: "stainless",
  matches(Client) {
    const proto = Client.prototype as object | undefined;
    return !!proto && ownerOf(proto, "methodRequest") !== null &&
      ownerOf(proto, "makeRequest") !== null;
  },
  patch(core, patcher, Client) {
    const owner = ownerOf(Client.prototype as object, "methodRequest")!;
    patcher.wrapMethod<Fn>(
      owner,
      "methodRequest",
      (original) => recordingHook(core, original, describeStainless(core), false),
    );
    const transport = ownerOf(owner, "fetchWithTimeout");
    if (transport) {
      patcher.wrapMethod<Fn>(transport, "fetchWithTimeout", (o) => transportHook(core, o));
    }
    // Without a probe client the methodRequest hook still records every call, with a later site.
    const probe = probeClient(Client, {});
    if (!probe) return true;
    for (const proto of resourcePrototypes(probe)) {
      for (const key of SITE_METHODS) {
        if (Object.prototype.hasOwnProperty.call(proto, key)) {
          patcher.wrapMethod<Fn>(proto, key, (o) => siteHook(core, o));
        }
      }
    }
    return true;
  },
};
