/**
 * ollama: `chat`, `generate` and `embed` on the client class record the call at their entry.
 *
 * @module
 */
import type { GuardCore } from "../layer.ts";
import { ownerOf, type Patcher } from "../patcher.ts";
import { splitUrl } from "../providers.ts";
import { type Fn, modelArg, recordingHook } from "./hooks.ts";

const METHODS: Record<string, string> = {
  chat: "chat",
  generate: "text_completion",
  embed: "embeddings",
  embeddings: "embeddings",
};

/** Whether `proto` is an ollama client's. */
export function isOllama(proto: object): boolean {
  return ownerOf(proto, "pull") !== null && ownerOf(proto, "chat") !== null &&
    ownerOf(proto, "generate") !== null;
}

/** Patches the `Ollama` client class. */
export function patchOllama(core: GuardCore, patcher: Patcher, proto: object): void {
  for (const [method, operation] of Object.entries(METHODS)) {
    const owner = ownerOf(proto, method);
    if (!owner) continue;
    patcher.wrapMethod<Fn>(
      owner,
      method,
      (original) =>
        recordingHook(core, original, (self, args) => {
          const host = (self.config as { host?: unknown } | undefined)?.host;
          const parts = typeof host === "string" ? splitUrl(host) : null;
          return {
            provider: "ollama",
            operation,
            model: modelArg(args),
            target: `ollama.${method}`,
            detector: "sdk",
            server: parts?.hostname ?? null,
            port: parts?.port ?? null,
          };
        }, true),
    );
  }
}
