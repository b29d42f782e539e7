/**
 * An application started with the preload (`--import`, `--preload`): it imports one SDK only, makes
 * one call, and prints what the guard did as one JSON line.
 */
import OpenAI from "openai";
import { enableGuard, type GuardRecord } from "../../mod.ts";
import { startMockAiServer } from "./mock_ai_server.ts";

const server = await startMockAiServer();
const client = new OpenAI({ apiKey: "sk-test", baseURL: `${server.url}/v1`, maxRetries: 0 });
await client.chat.completions.create({ model: "gpt-4o-mini", messages: [] }); // the call site
const guard = enableGuard(); // the live guard (the same options): a handle on it
const shared = (globalThis as Record<symbol, { discover?: () => Promise<unknown[]> }>)[
  Symbol.for("@aiguard/attest.registry")
];
const loaded = (await shared?.discover?.()) ?? [];
const [record] = (guard.records() as GuardRecord[]).filter((r) => r.event === "ai_call");
console.log(JSON.stringify({
  detector: record?.detector ?? null,
  target: record?.target ?? null,
  call_site: record?.call_site ?? null,
  loaded: loaded.map((m) =>
    Object.keys(m as object).filter((k) => /^(OpenAI|Anthropic|Groq|Mistral|Ollama)$/.test(k))
  ).flat(),
}));
await server.close();
