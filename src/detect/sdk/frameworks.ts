/**
 * Frameworks above the provider SDKs: LangChain chat models and embeddings, and the `@openai/agents`
 * runner. They reach the SDK or `fetch` after several awaits, where Bun has dropped the
 * application's frame; their public entry points still have it. A scope entry takes the call site
 * there; each AI call inside (an agent run makes several) is still decided on its own below.
 *
 * @module
 */
import { LANGCHAIN_METHODS } from "../../catalog.ts";
import { ownerOf } from "../patcher.ts";
import { type Fn, scopeHook } from "./hooks.ts";
import { catalogClient, catalogEntry, type SdkFamily } from "./family.ts";

/** The LangChain model methods of one operation, from the catalog. */
function langchainMethods(operation: string): string[] {
  return Object.entries(LANGCHAIN_METHODS).filter(([, op]) => op === operation).map(([m]) => m);
}

const CHAT_METHODS = langchainMethods("chat");
const EMBEDDING_METHODS = langchainMethods("embeddings");
const AGENTS = catalogEntry("@openai/agents");

function hasMethod(value: unknown, name: string): boolean {
  return typeof (value as Record<string, unknown> | null)?.[name] === "function";
}

function owns(Client: Fn, ...keys: string[]): boolean {
  const proto = Client.prototype as object | undefined;
  return !!proto && keys.every((key) => ownerOf(proto, key) !== null);
}

/**
 * A LangChain chat model class (`ChatOpenAI`, `ChatAnthropic`, any provider's), known by the chat
 * model base's `_generate`, `invoke` and `_llmType`: scope entries on its chat methods.
 */
export const langchainChatModelFamily: SdkFamily = {
  name: "langchain-chat-model",
  matches: (Client) => owns(Client, "_generate", "invoke", "_llmType"),
  patch(core, patcher, Client) {
    const proto = Client.prototype as object;
    // The owner may be a base that other runnables share: only chat models take the scope.
    const isChatModel = (self: unknown) => hasMethod(self, "_generate");
    for (const method of CHAT_METHODS) {
      const owner = ownerOf(proto, method);
      if (owner) patcher.wrapMethod<Fn>(owner, method, (o) => scopeHook(core, o, isChatModel));
    }
    return true;
  },
};

/** A LangChain embeddings class (`OpenAIEmbeddings`, …): scope entries on its embedding methods. */
export const langchainEmbeddingsFamily: SdkFamily = {
  name: "langchain-embeddings",
  matches: (Client) => owns(Client, ...EMBEDDING_METHODS),
  patch(core, patcher, Client) {
    for (const method of EMBEDDING_METHODS) {
      const owner = ownerOf(Client.prototype as object, method);
      if (owner) patcher.wrapMethod<Fn>(owner, method, (o) => scopeHook(core, o));
    }
    return true;
  },
};

/** The agents SDK's `Runner` (the `run()` function uses a default one): a scope entry on its methods. */
export const agentsRunnerFamily: SdkFamily = {
  name: "openai-agents",
  matches: (Client) =>
    catalogClient([AGENTS], Client) !== null && owns(Client, ...Object.keys(AGENTS.methods)),
  patch(core, patcher, Client) {
    for (const method of Object.keys(AGENTS.methods)) {
      const owner = ownerOf(Client.prototype as object, method);
      if (owner) patcher.wrapMethod<Fn>(owner, method, (o) => scopeHook(core, o));
    }
    return true;
  },
};
