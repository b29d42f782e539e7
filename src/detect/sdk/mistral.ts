/**
 * @mistralai/mistralai: resource classes (`chat`, `fim`, `agents`, `embeddings`) reached through a
 * throwaway client; each method records the call at its entry.
 *
 * @module
 */
import type { GuardCore } from "../layer.ts";
import type { Patcher } from "../patcher.ts";
import { splitUrl } from "../providers.ts";
import { type Fn, modelArg, recordingHook } from "./hooks.ts";
import { throwaway } from "./stainless.ts";

const METHODS: Record<string, Record<string, string>> = {
  chat: { complete: "chat", stream: "chat" },
  fim: { complete: "text_completion", stream: "text_completion" },
  agents: { complete: "chat", stream: "chat" },
  embeddings: { create: "embeddings" },
};

/** Patches the `Mistral` client class. */
export function patchMistral(core: GuardCore, patcher: Patcher, Client: Fn): boolean {
  const probe = throwaway(Client as unknown as new (o: object) => object, {}) as
    | Record<string, unknown>
    | null;
  if (!probe) return false;
  for (const [resource, methods] of Object.entries(METHODS)) {
    const proto = probe[resource] ? Object.getPrototypeOf(probe[resource]) : null;
    if (!proto) continue;
    for (const [method, operation] of Object.entries(methods)) {
      patcher.wrapMethod<Fn>(
        proto,
        method,
        (original) =>
          recordingHook(core, original, (self, args) => {
            const base = String((self as { _baseURL?: unknown })._baseURL ?? "");
            const parts = base ? splitUrl(base) : null;
            return {
              provider: "mistral_ai",
              operation,
              model: modelArg(args),
              target: `mistral.${resource}.${method}`,
              detector: "sdk",
              server: parts?.hostname ?? null,
              port: parts?.port ?? null,
            };
          }, true),
      );
    }
  }
  return true;
}
