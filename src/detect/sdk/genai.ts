/**
 * @google/genai: `Models` assigns `generateContent` and friends per instance in its constructor; a
 * prototype setter catches each assignment and stores a wrapped method on the instance.
 *
 * @module
 */
import type { GuardCore } from "../layer.ts";
import type { Patcher } from "../patcher.ts";
import { serverOf } from "../providers.ts";
import { type Describe, type Fn, recordingHook } from "./hooks.ts";
import {
  catalogClient,
  catalogEntry,
  methodsUnder,
  probeClient,
  type SdkFamily,
} from "./family.ts";

const GENAI = catalogEntry("@google/genai");
/** The resource the catalog names, and the class that implements it (exported, patched alone too). */
const RESOURCE = "models";
const RESOURCE_CLASS = "Models";
const METHODS = methodsUnder(GENAI, RESOURCE);
/** The provider when the client is Vertex AI's (`vertexai: true`) rather than the Gemini API's. */
const VERTEX_PROVIDER = "gcp.vertex_ai";

function describeGenai(method: string, operation: string | null): Describe {
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
    return {
      provider: vertex ? VERTEX_PROVIDER : GENAI.provider,
      operation,
      model: typeof params?.model === "string" ? params.model.replace(/^models\//, "") : null,
      target: `${GENAI.library}.${RESOURCE}.${method}`,
      detector: "sdk",
      ...serverOf(base),
    };
  };
}

function patchModels(core: GuardCore, patcher: Patcher, modelsProto: object): void {
  for (const [method, operation] of Object.entries(METHODS)) {
    const describe = describeGenai(method, operation);
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

/** `GoogleGenAI` (patched through a probe client's `models`) or the `Models` class itself. */
export const genaiFamily: SdkFamily = {
  name: "genai",
  matches: (Client) => Client.name === RESOURCE_CLASS || catalogClient([GENAI], Client) !== null,
  patch(core, patcher, Client) {
    if (Client.name === RESOURCE_CLASS) {
      patchModels(core, patcher, Client.prototype as object);
      return true;
    }
    const probe = probeClient(Client, {}) as { models?: object } | null;
    if (!probe?.models) return false;
    patchModels(core, patcher, Object.getPrototypeOf(probe.models));
    return true;
  },
};
