/**
 * @google/genai: `Models` assigns `generateContent` and friends per instance in its constructor; a
 * prototype setter catches each assignment and stores a wrapped method on the instance.
 *
 * @module
 */
import type { GuardCore } from "../layer.ts";
import type { Patcher } from "../patcher.ts";
import { splitUrl } from "../providers.ts";
import { type Describe, type Fn, recordingHook } from "./hooks.ts";
import { throwaway } from "./stainless.ts";

const METHODS: Record<string, string> = {
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
      operation: METHODS[method] ?? null,
      model: typeof params?.model === "string" ? params.model.replace(/^models\//, "") : null,
      target: `google_genai.models.${method}`,
      detector: "sdk",
      server: parts?.hostname ?? null,
      port: parts?.port ?? null,
    };
  };
}

function patchModels(core: GuardCore, patcher: Patcher, modelsProto: object): void {
  for (const method of Object.keys(METHODS)) {
    const describe = describeGenai(method);
    patcher.define(modelsProto, method, {
      enumerable: false,
      get: () => undefined,
      set(this: object, value: unknown) {
        const wrapped = typeof value === "function"
          ? recordingHook(core, value as Fn, describe, true)
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

/** Patches `GoogleGenAI` (through a throwaway client's `models`) or the `Models` class itself. */
export function patchGenai(core: GuardCore, patcher: Patcher, Client: Fn): boolean {
  if (Client.name === "Models") {
    patchModels(core, patcher, Client.prototype as object);
    return true;
  }
  const probe = throwaway(Client as unknown as new (o: object) => object, {}) as
    | { models?: object }
    | null;
  if (!probe?.models) return false;
  patchModels(core, patcher, Object.getPrototypeOf(probe.models));
  return true;
}
