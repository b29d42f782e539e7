/**
 * The SDK layer: recognises AI SDK classes (or module namespaces, or client instances) and patches
 * them at prototype level, so clients constructed before the guard are caught too. Each family
 * lives in `sdk/`, behind one interface ({@link SdkFamily}); methods are wrapped in place, resource
 * objects are never replaced.
 *
 * @module
 */
import type { GuardCore } from "./layer.ts";
import { ownerOf, type Patcher } from "./patcher.ts";
import { patchWsClass } from "./websocket.ts";
import type { Fn } from "./sdk/hooks.ts";
import type { SdkFamily } from "./sdk/family.ts";
import { stainlessFamily } from "./sdk/stainless.ts";
import { genaiFamily } from "./sdk/genai.ts";
import { mistralFamily } from "./sdk/mistral.ts";
import { ollamaFamily } from "./sdk/ollama.ts";
import { bedrockFamily } from "./sdk/bedrock.ts";
import { cohereFamily } from "./sdk/cohere.ts";
import {
  agentsRunnerFamily,
  langchainChatModelFamily,
  langchainEmbeddingsFamily,
} from "./sdk/frameworks.ts";
import { runtimeKey } from "../runtime.ts";

export type { SdkFamily } from "./sdk/family.ts";

/**
 * Bun's built-in `ws` client: an EventEmitter-based `WebSocket` class with `setSocket`, whose
 * connections no HTTP hook sees there.
 */
const bunWsFamily: SdkFamily = {
  name: "bun-ws",
  matches(Client) {
    const proto = Client.prototype as object | undefined;
    return runtimeKey() === "bun" && Client.name === "WebSocket" && !!proto &&
      ownerOf(proto, "setSocket") !== null && ownerOf(proto, "emit") !== null;
  },
  patch: (core, patcher, Client) => patchWsClass(core, patcher, Client as { prototype: object }),
};

/**
 * Every SDK family, in precedence order: a class is patched by the first family that matches it.
 * Stainless comes first (its clients would also pass looser tests below: an OpenAI client has
 * `chat`); the structural framework tests (LangChain models) come after every provider SDK, whose
 * own clients they must not take.
 *
 * @example Which family patches a class
 * ```ts
 * import { FAMILIES } from "./sdk.ts";
 * class Ollama { pull() {} chat() {} generate() {} }
 * FAMILIES.find((family) => family.matches(Ollama))?.name; // "ollama"
 * ```
 */
export const FAMILIES: readonly SdkFamily[] = [
  stainlessFamily,
  ollamaFamily,
  mistralFamily,
  genaiFamily,
  bedrockFamily,
  cohereFamily,
  langchainChatModelFamily,
  langchainEmbeddingsFamily,
  agentsRunnerFamily,
  bunWsFamily,
];

/** The family that patches `Client`: the first in {@link FAMILIES} that matches, if any. */
export function familyOf(Client: Fn): SdkFamily | undefined {
  if (!Client.prototype) return undefined;
  return FAMILIES.find((family) => family.matches(Client));
}

function patchClass(core: GuardCore, patcher: Patcher, Client: Fn): boolean {
  return familyOf(Client)?.patch(core, patcher, Client) ?? false;
}

/**
 * Patches the given SDK classes, module namespaces or client instances. Unknown values are
 * ignored; returns how many SDK classes were recognised.
 *
 * @example
 * ```ts
 * import { patchClients } from "./sdk.ts";
 * declare const core: import("./layer.ts").GuardCore;
 * declare const patcher: import("./patcher.ts").Patcher;
 * patchClients(core, patcher, [await import("openai")]); // 1 or more: OpenAI, AzureOpenAI
 * ```
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
