/**
 * The `ai` SDK loaded with a dynamic `import()` after the preload's guard started: prints the
 * record's call site as one JSON line.
 */
import { enableGuard, type GuardRecord } from "../../mod.ts";
import { startMockAiServer } from "./mock_ai_server.ts";

const { generateText } = await import("ai");
const { createAnthropic } = await import("@ai-sdk/anthropic");
const server = await startMockAiServer();
const anthropic = createAnthropic({ apiKey: "sk-ant-test", baseURL: `${server.url}/v1` });
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;
const model = anthropic("claude-3-5-haiku-latest");
await generateText({ model, prompt: "hi", maxRetries: 0, maxOutputTokens: 16 }); // the call site
const [record] = (enableGuard().records() as GuardRecord[]).filter((r) => r.event === "ai_call");
console.log(JSON.stringify({ call_site: record?.call_site ?? null, name: generateText.name }));
await server.close();
