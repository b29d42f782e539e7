/**
 * Stainless clients: openai (also `AzureOpenAI`), @anthropic-ai/sdk, groq-sdk, together-ai. One
 * recording hook on the client's `methodRequest` (every request of every resource goes through it),
 * site entries on the resource methods (`create`, `stream`, …) where the application frame is still
 * on the stack, and the transport's `fetchWithTimeout` to end spans.
 *
 * @module
 */
import type { GuardCore } from "../layer.ts";
import { ownerOf, type Patcher } from "../patcher.ts";
import { operationForPath, splitUrl } from "../providers.ts";
import type { CallFacts } from "../../report/record.ts";
import { type Describe, type Fn, recordingHook, siteHook, transportHook } from "./hooks.ts";

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

/** The SDK and provider of a client class, by its name (`AzureOpenAI` before `OpenAI`). */
function namesOf(ctor: unknown): { sdk: string; provider: string } {
  const name = (ctor as { name?: string } | null)?.name ?? "";
  if (/azure/i.test(name)) return { sdk: "azure_openai", provider: "azure.ai.openai" };
  if (/anthropic/i.test(name)) return { sdk: "anthropic", provider: "anthropic" };
  if (/groq/i.test(name)) return { sdk: "groq", provider: "groq" };
  if (/together/i.test(name)) return { sdk: "together", provider: "together" };
  if (/openai/i.test(name)) return { sdk: "openai", provider: "openai" };
  const lower = name.toLowerCase();
  return { sdk: lower || "sdk", provider: lower || "unknown" };
}

type Route = Omit<CallFacts, "model">;
const ROUTES_MAX = 256;

function describeStainless(core: GuardCore): Describe {
  // A client sends the same few requests over and over: remember what each route is (bounded).
  const routes = new Map<string, Route>();
  const names = new WeakMap<object, { sdk: string; provider: string }>();
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
      const parts = baseURL ? splitUrl(baseURL) : null;
      const name = TARGETS.find(([suffix]) => path.endsWith(suffix))?.[1] ??
        `${method.toLowerCase()} ${path}`;
      known = {
        provider: match && match.provider !== "openai_compatible" ? match.provider : named.provider,
        operation: operationForPath(path),
        target: `${named.sdk}.${name}`,
        detector: "sdk",
        server: parts?.hostname ?? null,
        port: parts?.port ?? null,
      };
      if (routes.size >= ROUTES_MAX) routes.clear();
      routes.set(key, known);
    }
    return known;
  };
  return (self, args) => {
    const [method, rawPath, opts] = args as [string, string, { body?: { model?: unknown } }];
    const path = String(rawPath ?? "").split("?")[0]!;
    const baseURL = typeof self.baseURL === "string" ? self.baseURL.replace(/\/+$/, "") : "";
    const body = opts && typeof (opts as { then?: unknown }).then !== "function"
      ? opts.body
      : undefined;
    const model = typeof body?.model === "string" ? body.model : core.frame()?.call?.model ?? null;
    return { ...route(self, String(method), baseURL, path), model };
  };
}

/** Resource objects of a throwaway client, to reach their methods on their prototypes. */
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

/** A client built only to find its resource classes; it never sends anything. */
export function throwaway(Client: new (options: object) => object, options: object): object | null {
  try {
    return new Client({
      apiKey: "aiguard-probe",
      dangerouslyAllowBrowser: true,
      endpoint: "https://aiguard.invalid",
      apiVersion: "2024-10-21",
      ...options,
    });
  } catch {
    return null;
  }
}

/** Whether `proto` is a Stainless client's. */
export function isStainless(proto: object): boolean {
  return ownerOf(proto, "methodRequest") !== null && ownerOf(proto, "makeRequest") !== null;
}

/** Patches a Stainless client class. */
export function patchStainless(core: GuardCore, patcher: Patcher, Client: Fn): void {
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
  const probe = throwaway(Client as unknown as new (o: object) => object, {});
  if (!probe) return;
  for (const proto of resourcePrototypes(probe)) {
    for (const key of ["create", "stream", "runTools", "parse", "generate"]) {
      if (Object.prototype.hasOwnProperty.call(proto, key)) {
        patcher.wrapMethod<Fn>(proto, key, (o) => siteHook(core, o));
      }
    }
  }
}
