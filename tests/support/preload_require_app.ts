/**
 * An application started with the preload that loads its SDK with `require()` (the CommonJS
 * entry): makes one call and prints what the guard recorded as one JSON line.
 */
import { createRequire } from "node:module";
import { enableGuard, type GuardRecord } from "../../mod.ts";
import { startMockAiServer } from "./mock_ai_server.ts";

const require = createRequire(import.meta.url);
const { OpenAI } = require("openai");
require("openai"); // cached: not handed to the guard again
const server = await startMockAiServer();
const client = new OpenAI({ apiKey: "sk-test", baseURL: `${server.url}/v1`, maxRetries: 0 });
await client.chat.completions.create({ model: "gpt-4o-mini", messages: [] }); // the call site
const [record] = (enableGuard().records() as GuardRecord[]).filter((r) => r.event === "ai_call");
const shared = (globalThis as Record<symbol, { discover?: () => Promise<unknown[]> }>)[
  Symbol.for("@aiguard/attest.registry")
];
console.log(JSON.stringify({
  handed: ((await shared?.discover?.()) ?? []).length,
  detector: record?.detector ?? null,
  target: record?.target ?? null,
  call_site: record?.call_site ?? null,
}));
await server.close();
