/**
 * An application started with the preload that calls the `ai` SDK (an ESM module of functions,
 * which no prototype patch reaches): prints the record's call site as one JSON line.
 */
import { generateText } from "ai";
import { createAnthropic } from "@ai-sdk/anthropic";
import { enableGuard, type GuardRecord } from "../../mod.ts";
import { startMockAiServer } from "./mock_ai_server.ts";

const server = await startMockAiServer();
const anthropic = createAnthropic({ apiKey: "sk-ant-test", baseURL: `${server.url}/v1` });
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;
const model = anthropic("claude-3-5-haiku-latest");
await generateText({ model, prompt: "hi", maxRetries: 0, maxOutputTokens: 16 }); // the call site
const [record] = (enableGuard().records() as GuardRecord[]).filter((r) => r.event === "ai_call");
console.log(JSON.stringify({
  call_site: record?.call_site ?? null,
  detector: record?.detector ?? null,
  name: generateText.name,
}));
await server.close();
