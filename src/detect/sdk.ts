/**
 * The SDK layer: recognises AI SDK classes (or module namespaces, or client instances) and patches
 * them at prototype level, so clients constructed before the guard are caught too. Each family
 * lives in `sdk/`; methods are wrapped in place, resource objects are never replaced.
 *
 * @module
 */
import type { GuardCore } from "./layer.ts";
import { ownerOf, type Patcher } from "./patcher.ts";
import { patchWsClass } from "./websocket.ts";
import type { Fn } from "./sdk/hooks.ts";
import { isStainless, patchStainless } from "./sdk/stainless.ts";
import { patchGenai } from "./sdk/genai.ts";
import { patchMistral } from "./sdk/mistral.ts";
import { isOllama, patchOllama } from "./sdk/ollama.ts";
import { isBedrockClient, patchBedrock } from "./sdk/bedrock.ts";
import { isCohereClient, patchCohere } from "./sdk/cohere.ts";
import {
  isAgentsRunner,
  isLangChainChatModel,
  isLangChainEmbeddings,
  patchAgentsRunner,
  patchLangChainChatModel,
  patchLangChainEmbeddings,
} from "./sdk/frameworks.ts";
import { runtimeKey } from "../runtime.ts";

/** Bun's built-in `ws` client: an EventEmitter-based `WebSocket` class with `setSocket`. */
function isBunWs(Client: Fn): boolean {
  const proto = Client.prototype as object | undefined;
  return runtimeKey() === "bun" && Client.name === "WebSocket" && !!proto &&
    ownerOf(proto, "setSocket") !== null && ownerOf(proto, "emit") !== null;
}

function patchClass(core: GuardCore, patcher: Patcher, Client: Fn): boolean {
  const proto = Client.prototype as object | undefined;
  if (!proto) return false;
  if (isStainless(proto)) {
    patchStainless(core, patcher, Client);
    return true;
  }
  if (isOllama(proto)) {
    patchOllama(core, patcher, proto);
    return true;
  }
  if (Client.name === "Mistral" || (ownerOf(proto, "_createRequest") && "chat" in proto)) {
    return patchMistral(core, patcher, Client);
  }
  if (Client.name === "GoogleGenAI" || Client.name === "Models") {
    return patchGenai(core, patcher, Client);
  }
  if (isBedrockClient(Client)) {
    patchBedrock(core, patcher, Client);
    return true;
  }
  if (isCohereClient(Client)) return patchCohere(core, patcher, Client);
  if (isLangChainChatModel(Client)) {
    patchLangChainChatModel(core, patcher, Client);
    return true;
  }
  if (isLangChainEmbeddings(Client)) {
    patchLangChainEmbeddings(core, patcher, Client);
    return true;
  }
  if (isAgentsRunner(Client)) {
    patchAgentsRunner(core, patcher, Client);
    return true;
  }
  if (isBunWs(Client)) return patchWsClass(core, patcher, Client as { prototype: object });
  return false;
}

/**
 * Patches the given SDK classes, module namespaces or client instances. Unknown values are
 * ignored; returns how many SDK classes were recognised.
 */
export function patchClients(
  core: GuardCore,
  patcher: Patcher,
  clients: readonly unknown[],
): number {
  let recognised = 0;
  for (const client of clients) {
    if (typeof client === "function") {
      if (patchClass(core, patcher, client as Fn)) recognised++;
    } else if (client !== null && typeof client === "object") {
      const ctor = (client as { constructor?: unknown }).constructor;
      if (typeof ctor === "function" && ctor !== Object && patchClass(core, patcher, ctor as Fn)) {
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
        if (
          typeof value === "function" && /^[A-Z]/.test(key) &&
          patchClass(core, patcher, value as Fn)
        ) recognised++;
      }
    }
  }
  return recognised;
}
