/**
 * Frameworks above the provider SDKs: LangChain chat models and embeddings, and the `@openai/agents`
 * runner. They reach the SDK or `fetch` after several awaits, where Bun has dropped the
 * application's frame; their public entry points still have it. A scope entry takes the call site
 * there; each AI call inside (an agent run makes several) is still decided on its own below.
 *
 * @module
 */
import type { GuardCore } from "../layer.ts";
import { ownerOf, type Patcher } from "../patcher.ts";
import { type Fn, scopeHook } from "./hooks.ts";

function hasMethod(value: unknown, name: string): boolean {
  return typeof (value as Record<string, unknown> | null)?.[name] === "function";
}

/** A LangChain chat model class (`ChatOpenAI`, `ChatAnthropic`, …): `_generate` and `invoke`. */
export function isLangChainChatModel(Client: Fn): boolean {
  const proto = Client.prototype as object | undefined;
  return !!proto && ownerOf(proto, "_generate") !== null && ownerOf(proto, "invoke") !== null &&
    ownerOf(proto, "_llmType") !== null;
}

/** A LangChain embeddings class (`OpenAIEmbeddings`, …). */
export function isLangChainEmbeddings(Client: Fn): boolean {
  const proto = Client.prototype as object | undefined;
  return !!proto && ownerOf(proto, "embedQuery") !== null &&
    ownerOf(proto, "embedDocuments") !== null;
}

/** The agents SDK's `Runner` (the `run()` function uses a default one). */
export function isAgentsRunner(Client: Fn): boolean {
  const proto = Client.prototype as object | undefined;
  return Client.name === "Runner" && !!proto && ownerOf(proto, "run") !== null;
}

/** Scope entries on the chat model base (`invoke`, `generate`) and `stream`/`batch` of chat models. */
export function patchLangChainChatModel(core: GuardCore, patcher: Patcher, Client: Fn): void {
  const proto = Client.prototype as object;
  const isChatModel = (self: unknown) => hasMethod(self, "_generate");
  for (const method of ["invoke", "generate", "stream", "batch"]) {
    const owner = ownerOf(proto, method);
    if (owner) patcher.wrapMethod<Fn>(owner, method, (o) => scopeHook(core, o, isChatModel));
  }
}

/** Scope entries on `embedQuery` and `embedDocuments`. */
export function patchLangChainEmbeddings(core: GuardCore, patcher: Patcher, Client: Fn): void {
  for (const method of ["embedQuery", "embedDocuments"]) {
    const owner = ownerOf(Client.prototype as object, method);
    if (owner) patcher.wrapMethod<Fn>(owner, method, (o) => scopeHook(core, o));
  }
}

/** A scope entry on `Runner.prototype.run`. */
export function patchAgentsRunner(core: GuardCore, patcher: Patcher, Client: Fn): void {
  const owner = ownerOf(Client.prototype as object, "run");
  if (owner) patcher.wrapMethod<Fn>(owner, "run", (o) => scopeHook(core, o));
}
