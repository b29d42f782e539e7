// @runtimes deno bun node
/**
 * The SDK families behind one interface: which family takes each class of the installed SDKs, and
 * the precedence of `FAMILIES` where a class passes more than one family's test.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FAMILIES, familyOf } from "../../src/detect/sdk.ts";
import { catalogClient, catalogEntry, methodsUnder } from "../../src/detect/sdk/family.ts";
import { CATALOG } from "../../src/catalog.ts";

test("each class of the installed SDKs is taken by exactly one family, the expected one", async () => {
  const expected: Array<[specifier: string, exportName: string, family: string]> = [
    ["openai", "OpenAI", "stainless"],
    ["openai", "AzureOpenAI", "stainless"],
    ["@anthropic-ai/sdk", "Anthropic", "stainless"],
    ["groq-sdk", "Groq", "stainless"],
    ["together-ai", "Together", "stainless"],
    ["@google/genai", "GoogleGenAI", "genai"],
    ["@google/genai", "Models", "genai"],
    ["@mistralai/mistralai", "Mistral", "mistral"],
    ["ollama", "Ollama", "ollama"],
    ["cohere-ai", "CohereClient", "cohere"],
    ["cohere-ai", "CohereClientV2", "cohere"],
    ["@aws-sdk/client-bedrock-runtime", "BedrockRuntimeClient", "bedrock"],
    ["@aws-sdk/client-bedrock-runtime", "BedrockRuntime", "bedrock"],
    ["@langchain/openai", "ChatOpenAI", "langchain-chat-model"],
    ["@langchain/openai", "OpenAIEmbeddings", "langchain-embeddings"],
    ["@openai/agents", "Runner", "openai-agents"],
  ];
  for (const [specifier, exportName, family] of expected) {
    const Client = (await import(specifier))[exportName];
    assert.equal(typeof Client, "function", `${specifier} exports ${exportName}`);
    const matching = FAMILIES.filter((f) => f.matches(Client)).map((f) => f.name);
    assert.deepEqual(matching, [family], `${specifier} ${exportName}`);
    assert.equal(familyOf(Client)?.name, family);
  }
  // Classes of no AI SDK are nobody's.
  for (const Client of [Map, URL, class Plain {}, class Runner {}]) {
    assert.equal(familyOf(Client as never), undefined, String(Client.name));
  }
});

/**
 * A class that passes `family`'s test as the installed SDKs' classes do: the names the catalog
 * lists (on the class's chain) and the methods the family looks for.
 */
const MARKS: Record<string, { names?: string[]; ownName?: string; methods?: string[] }> = {
  stainless: { methods: ["methodRequest", "makeRequest"] },
  ollama: { methods: ["pull", "chat", "generate"] },
  mistral: { names: ["Mistral"] },
  genai: { names: ["GoogleGenAI"] },
  bedrock: { names: ["BedrockRuntimeClient"], methods: ["send"] },
  cohere: { names: ["CohereClient"] },
  "langchain-chat-model": { methods: ["_generate", "invoke", "_llmType"] },
  "langchain-embeddings": { methods: ["embedQuery", "embedDocuments"] },
  "openai-agents": { names: ["Runner"], methods: ["run"] },
  "bun-ws": { ownName: "WebSocket", methods: ["setSocket", "emit"] },
};

/** A class chain with every family's marks: each name on one class of the chain, methods on the base. */
function classWith(...families: string[]): new () => object {
  const marks = families.map((name) => MARKS[name]!);
  // deno-lint-ignore no-explicit-any
  let Current: any = class {};
  for (const method of marks.flatMap((m) => m.methods ?? [])) {
    Current.prototype[method] = function () {};
  }
  for (
    const name of [
      ...marks.flatMap((m) => m.names ?? []),
      marks.find((m) => m.ownName)?.ownName,
    ]
  ) {
    if (name === undefined) continue;
    Current = class extends Current {};
    Object.defineProperty(Current, "name", { value: name });
  }
  return Current;
}

test("every family's test passes on the marks the precedence test gives it", () => {
  for (const family of FAMILIES) {
    assert.ok(MARKS[family.name], `marks for ${family.name}`);
    if (family.name === "bun-ws" && typeof (globalThis as { Bun?: unknown }).Bun === "undefined") {
      continue; // Bun's built-in ws only
    }
    assert.equal(family.matches(classWith(family.name) as never), true, family.name);
  }
});

test("precedence: Stainless first, provider SDKs before the frameworks above them", () => {
  const index = (name: string) => FAMILIES.findIndex((f) => f.name === name);
  const providers = ["ollama", "mistral", "genai", "bedrock", "cohere"];
  const frameworks = ["langchain-chat-model", "langchain-embeddings", "openai-agents"];
  const first = (...families: string[]) => familyOf(classWith(...families) as never)?.name;
  // A Stainless client is recorded by its methodRequest hook whatever else it looks like (a
  // Stainless-generated SDK named as another family's class, or with chat/generate resources).
  for (const other of [...providers, ...frameworks]) {
    assert.equal(first("stainless", other), "stainless", `stainless over ${other}`);
  }
  // A provider's client that also has a framework's shape is that provider's: a framework family
  // only takes the call site, so the call would be recorded by transports, without SDK facts.
  for (const provider of providers) {
    for (const framework of frameworks) {
      assert.equal(first(provider, framework), provider, `${provider} over ${framework}`);
    }
  }
  // LangChain's chat model base also runs embeddings on some models: the chat model scope wins.
  assert.equal(first("langchain-chat-model", "langchain-embeddings"), "langchain-chat-model");
  assert.ok(index("stainless") === 0);
});

test("families read their facts from the catalog: targets, providers and methods", () => {
  const openai = catalogEntry("openai");
  class MyAzure extends (class AzureOpenAI {}) {}
  const named = catalogClient([openai], MyAzure as never);
  assert.equal(named?.className, "AzureOpenAI");
  assert.equal(openai.clients[named!.className], "azure_openai");
  assert.deepEqual(methodsUnder(catalogEntry("@mistralai/mistralai"), "fim"), {
    complete: "text_completion",
    stream: "text_completion",
  });
  // Every runtime family's package is in the catalog and not scan-only.
  for (const pkg of ["openai", "ollama", "cohere-ai", "@aws-sdk/client-bedrock-runtime"]) {
    assert.equal(CATALOG.find((e) => e.package === pkg)?.scanOnly, undefined, pkg);
  }
  assert.throws(() => catalogEntry("not-an-sdk"), /no catalog entry/);
});
