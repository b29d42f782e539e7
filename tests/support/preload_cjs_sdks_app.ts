/**
 * An application started with the preload that imports two SDKs whose entries are CommonJS only
 * (cohere-ai; the Bedrock client, whose entry Bun resolves to CommonJS), makes one call with each
 * and prints the records' detector and call site as one JSON line.
 */
import { CohereClientV2 } from "cohere-ai";
import { BedrockRuntimeClient, ConverseCommand } from "@aws-sdk/client-bedrock-runtime";
import { enableGuard, type GuardRecord } from "../../mod.ts";
import { startAiServers } from "./ai_servers_client.ts";

const servers = await startAiServers();
const cohere = new CohereClientV2({ token: "co-test", environment: servers.http1 });
await cohere.chat({ model: "command-r", messages: [{ role: "user", content: "hi" }] }); // cohere
const bedrock = new BedrockRuntimeClient({
  region: "us-east-1",
  endpoint: servers.http2,
  credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
});
await bedrock.send(
  new ConverseCommand({ modelId: "m", messages: [{ role: "user", content: [{ text: "hi" }] }] }),
); // bedrock
bedrock.destroy();
const records = (enableGuard().records() as GuardRecord[]).filter((r) => r.event === "ai_call");
console.log(
  JSON.stringify(
    records.map((r) => ({ provider: r.provider, detector: r.detector, call_site: r.call_site })),
  ),
);
await servers.close();
