/**
 * The SDK layer: prototype patching of AI SDK classes, so clients constructed before the guard are
 * caught too, and the call site is taken synchronously at the method entry (Bun keeps no async
 * frames). Methods are wrapped in place; resource objects are never replaced.
 *
 * @module
 */
import { currentFrame, runInFrame } from "../context.ts";
import { captureStack, ENTRY_CAPTURE_LIMIT } from "./call_site.ts";
import {
  activeRules,
  guardActive,
  guardCall,
  quietMarker,
  settleWhen,
  siteWanted,
} from "../guard.ts";
import type { CallFacts } from "../report/record.ts";
import { ownerOf, type Patcher } from "./patcher.ts";
import { matchUrl, operationForPath, splitUrl } from "./providers.ts";

// deno-lint-ignore no-explicit-any
type Fn = (this: any, ...args: any[]) => any;
type Describe = (self: Record<string, unknown>, args: unknown[]) => CallFacts;

const PACKAGES = [
  "openai",
  "@anthropic-ai/sdk",
  "@google/genai",
  "groq-sdk",
  "@mistralai/mistralai",
  "ollama",
] as const;

function isAsyncFunction(fn: Fn): boolean {
  return fn.constructor?.name === "AsyncFunction";
}

function isNativePromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise && value.constructor === Promise;
}

/**
 * A recording entry: decides the call before the SDK does anything, then runs the SDK under the
 * marker so the fetch and undici layers stay quiet.
 */
function recordingHook(original: Fn, describe: Describe, settleOnResult: boolean): Fn {
  const async = isAsyncFunction(original);
  return function recording(this: Record<string, unknown>, ...args: unknown[]) {
    if (!guardActive()) return original.apply(this, args);
    const frame = currentFrame();
    if (frame?.call?.recorded) return original.apply(this, args); // an inner hop of one SDK call
    // An attested, untraced call is only counted; anything else is described and decided, with
    // its stack taken here at the entry, where the application frame is a few frames up.
    let marker = quietMarker(frame);
    if (marker === null) {
      try {
        const stack = frame?.call?.stack ?? captureStack(ENTRY_CAPTURE_LIMIT, recording);
        marker = guardCall(describe(this, args), frame, stack);
      } catch (error) {
        if (async) return Promise.reject(error);
        throw error;
      }
    }
    let result;
    const opened = frame?.call;
    if (opened) {
      // A site hook above already runs this call in its own frame: mark that one recorded
      // instead of entering another (each run() costs a context switch).
      opened.recorded = true;
      opened.stack = undefined;
      opened.settle = marker.settle;
      marker = opened;
      result = original.apply(this, args);
    } else {
      result = runInFrame(
        { attestation: frame?.attestation ?? null, call: marker },
        () => original.apply(this, args),
      );
    }
    // Only native promises: awaiting an SDK's own promise type may start parsing the body.
    if (settleOnResult && isNativePromise(result)) settleWhen(result, marker);
    return result;
  };
}

/**
 * A capturing entry for resource methods whose request options reach the transport only later
 * (after an await): takes the call site and the model now, for the recording hook below it.
 */
function siteHook(original: Fn): Fn {
  return function entry(this: unknown, ...args: unknown[]) {
    if (!guardActive()) return original.apply(this, args);
    const frame = currentFrame();
    // An attested, untraced call needs no site and no model: the recording hook only counts it.
    if (frame?.call || !siteWanted(frame?.attestation != null)) return original.apply(this, args);
    const model = (args[0] as { model?: unknown } | null | undefined)?.model;
    const marker = {
      recorded: false,
      stack: captureStack(ENTRY_CAPTURE_LIMIT, entry),
      settle: null,
      model: typeof model === "string" ? model : null,
    };
    return runInFrame(
      { attestation: frame?.attestation ?? null, call: marker },
      () => original.apply(this, args),
    );
  };
}

/** Ends the span of the call in progress when the SDK's transport returns the response. */
function transportHook(original: Fn): Fn {
  return function (this: unknown, ...args: unknown[]) {
    const result = original.apply(this, args);
    const marker = currentFrame()?.call;
    if (marker && isNativePromise(result)) settleWhen(result, marker);
    return result;
  };
}

// --- Stainless clients: openai, @anthropic-ai/sdk, groq-sdk, together-ai ---------------------

const STAINLESS_TARGETS: ReadonlyArray<[suffix: string, target: string]> = [
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
];

function stainlessName(owner: object): { sdk: string; provider: string } {
  const name = (owner as { constructor?: { name?: string } }).constructor?.name ?? "";
  if (/anthropic/i.test(name)) return { sdk: "anthropic", provider: "anthropic" };
  if (/groq/i.test(name)) return { sdk: "groq", provider: "groq" };
  if (/together/i.test(name)) return { sdk: "together", provider: "together" };
  if (/openai/i.test(name)) return { sdk: "openai", provider: "openai" };
  return { sdk: name.toLowerCase() || "sdk", provider: name.toLowerCase() || "unknown" };
}

type Route = Omit<CallFacts, "model">;
const ROUTES_MAX = 256;

function describeStainless(sdk: string, provider: string): Describe {
  // A client sends the same few requests over and over: remember what each route is (bounded).
  const routes = new Map<string, Route>();
  let rulesSeen: unknown = null;
  const route = (method: string, baseURL: string, path: string): Route => {
    const rules = activeRules();
    if (rules !== rulesSeen) {
      routes.clear(); // the guard was reconfigured: its provider rules may name routes differently
      rulesSeen = rules;
    }
    const key = `${method} ${baseURL}${path}`;
    let known = routes.get(key);
    if (known === undefined) {
      const match = baseURL ? matchUrl(baseURL + path, rules) : null;
      const parts = baseURL ? splitUrl(baseURL) : null;
      const name = STAINLESS_TARGETS.find(([suffix]) => path.endsWith(suffix))?.[1] ??
        `${method.toLowerCase()} ${path}`;
      known = {
        provider: match && match.provider !== "openai_compatible" ? match.provider : provider,
        operation: operationForPath(path),
        target: `${sdk}.${name}`,
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
    const model = typeof body?.model === "string"
      ? body.model
      : currentFrame()?.call?.model ?? null;
    return { ...route(String(method), baseURL, path), model };
  };
}

/** Resource objects of a throwaway client, to reach stream helpers on their prototypes. */
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

function throwaway(Client: new (options: object) => object, options: object): object | null {
  try {
    return new Client({ apiKey: "aiguard-probe", dangerouslyAllowBrowser: true, ...options });
  } catch {
    return null;
  }
}

function patchStainless(patcher: Patcher, Client: new (o: object) => object, owner: object): void {
  const { sdk, provider } = stainlessName(owner);
  patcher.wrapMethod<Fn>(
    owner,
    "methodRequest",
    (original) => recordingHook(original, describeStainless(sdk, provider), false),
  );
  const transport = ownerOf(owner, "fetchWithTimeout");
  if (transport) patcher.wrapMethod<Fn>(transport, "fetchWithTimeout", transportHook);
  const probe = throwaway(Client, {});
  if (!probe) return;
  for (const proto of resourcePrototypes(probe)) {
    for (const key of ["create", "stream", "runTools", "parse", "generate"]) {
      if (Object.prototype.hasOwnProperty.call(proto, key)) {
        patcher.wrapMethod<Fn>(proto, key, siteHook);
      }
    }
  }
}

// --- @google/genai ------------------------------------------------------------------------------

const GENAI_METHODS: Record<string, string> = {
  generateContent: "generate_content",
  generateContentStream: "generate_content",
  embedContent: "embeddings",
  generateImages: "generate_content",
};

function describeGenai(method: string): Describe {
  return (self, args) => {
    const params = args[0] as { model?: unknown } | undefined;
    const api = self.apiClient as
      | { isVertexAI?: () => boolean; getBaseUrl?: () => string }
      | undefined;
    let vertex = false;
    let base: string | null = null;
    try {
      vertex = api?.isVertexAI?.() ?? false;
      base = api?.getBaseUrl?.() ?? null;
    } catch {
      // older versions: leave defaults
    }
    const parts = base ? splitUrl(base) : null;
    return {
      provider: vertex ? "gcp.vertex_ai" : "gcp.gemini",
      operation: GENAI_METHODS[method] ?? null,
      model: typeof params?.model === "string" ? params.model.replace(/^models\//, "") : null,
      target: `google_genai.models.${method}`,
      detector: "sdk",
      server: parts?.hostname ?? null,
      port: parts?.port ?? null,
    };
  };
}

/**
 * `Models` assigns these methods per instance in its constructor; a prototype setter catches the
 * assignment and stores a wrapped method on the instance.
 */
function patchGenai(patcher: Patcher, modelsProto: object): void {
  for (const method of Object.keys(GENAI_METHODS)) {
    const describe = describeGenai(method);
    patcher.define(modelsProto, method, {
      enumerable: false,
      get: () => undefined,
      set(this: object, value: unknown) {
        const wrapped = typeof value === "function"
          ? recordingHook(value as Fn, describe, true)
          : value;
        Object.defineProperty(this, method, {
          value: wrapped,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      },
    });
  }
}

// --- @mistralai/mistralai, ollama -----------------------------------------------------------------

const MISTRAL_METHODS: Record<string, Record<string, string>> = {
  chat: { complete: "chat", stream: "chat" },
  fim: { complete: "text_completion", stream: "text_completion" },
  agents: { complete: "chat", stream: "chat" },
  embeddings: { create: "embeddings" },
};

function patchMistral(patcher: Patcher, Client: new (o: object) => object): void {
  const probe = throwaway(Client, {}) as Record<string, unknown> | null;
  if (!probe) return;
  for (const [resource, methods] of Object.entries(MISTRAL_METHODS)) {
    const proto = probe[resource] ? Object.getPrototypeOf(probe[resource]) : null;
    if (!proto) continue;
    for (const [method, operation] of Object.entries(methods)) {
      patcher.wrapMethod<Fn>(proto, method, (original) =>
        recordingHook(original, (self, args) => {
          const base = String((self as { _baseURL?: unknown })._baseURL ?? "");
          const parts = base ? splitUrl(base) : null;
          const model = (args[0] as { model?: unknown } | undefined)?.model;
          return {
            provider: "mistral_ai",
            operation,
            model: typeof model === "string" ? model : null,
            target: `mistral.${resource}.${method}`,
            detector: "sdk",
            server: parts?.hostname ?? null,
            port: parts?.port ?? null,
          };
        }, true));
    }
  }
}

const OLLAMA_METHODS: Record<string, string> = {
  chat: "chat",
  generate: "text_completion",
  embed: "embeddings",
  embeddings: "embeddings",
};

function patchOllama(patcher: Patcher, proto: object): void {
  for (const [method, operation] of Object.entries(OLLAMA_METHODS)) {
    const owner = ownerOf(proto, method);
    if (!owner) continue;
    patcher.wrapMethod<Fn>(owner, method, (original) =>
      recordingHook(original, (self, args) => {
        const host = (self.config as { host?: unknown } | undefined)?.host;
        const parts = typeof host === "string" ? splitUrl(host) : null;
        const model = (args[0] as { model?: unknown } | undefined)?.model;
        return {
          provider: "ollama",
          operation,
          model: typeof model === "string" ? model : null,
          target: `ollama.${method}`,
          detector: "sdk",
          server: parts?.hostname ?? null,
          port: parts?.port ?? null,
        };
      }, true));
  }
}

// --- recognition ----------------------------------------------------------------------------------

function patchClass(patcher: Patcher, Client: Fn): boolean {
  const proto = Client.prototype as object | undefined;
  if (!proto) return false;
  const stainless = ownerOf(proto, "methodRequest");
  if (stainless && ownerOf(proto, "makeRequest")) {
    patchStainless(patcher, Client as unknown as new (o: object) => object, stainless);
    return true;
  }
  if (ownerOf(proto, "pull") && ownerOf(proto, "chat") && ownerOf(proto, "generate")) {
    patchOllama(patcher, proto);
    return true;
  }
  if (Client.name === "Mistral" || (ownerOf(proto, "_createRequest") && "chat" in proto)) {
    patchMistral(patcher, Client as unknown as new (o: object) => object);
    return true;
  }
  if (Client.name === "GoogleGenAI" || Client.name === "Models") {
    if (Client.name === "Models") {
      patchGenai(patcher, proto);
      return true;
    }
    const probe = throwaway(Client as unknown as new (o: object) => object, {}) as
      | { models?: object }
      | null;
    if (probe?.models) {
      patchGenai(patcher, Object.getPrototypeOf(probe.models));
      return true;
    }
  }
  return false;
}

/**
 * Patches the given SDK classes, module namespaces or client instances. Unknown values are
 * ignored; returns how many SDK classes were recognised.
 */
export function patchClients(patcher: Patcher, clients: readonly unknown[]): number {
  let recognised = 0;
  for (const client of clients) {
    if (typeof client === "function") {
      if (patchClass(patcher, client as Fn)) recognised++;
    } else if (client !== null && typeof client === "object") {
      const ctor = (client as { constructor?: unknown }).constructor;
      if (typeof ctor === "function" && ctor !== Object && patchClass(patcher, ctor as Fn)) {
        recognised++;
        continue;
      }
      // A module namespace: patch every SDK class it exports.
      for (const key of Object.keys(client)) {
        let value: unknown;
        try {
          value = (client as Record<string, unknown>)[key];
        } catch {
          continue;
        }
        if (typeof value === "function" && /^[A-Z]/.test(key) && patchClass(patcher, value as Fn)) {
          recognised++;
        }
      }
    }
  }
  return recognised;
}

/** Imports the SDK packages that resolve from here; silently skips those that do not. */
export async function discoverClients(): Promise<unknown[]> {
  const found: unknown[] = [];
  await Promise.all(PACKAGES.map(async (name) => {
    try {
      const specifier = name; // a variable, so bundlers leave the optional import alone
      found.push(await import(specifier));
    } catch {
      // not installed: nothing to patch
    }
  }));
  return found;
}
