// @runtimes deno bun node
/**
 * Every AI call, whatever carries it: real clients (raw node:http, axios, got, node-fetch 2,
 * node:http2, the AWS Bedrock SDK, ws, the global WebSocket, undici, cohere, LangChain, agents,
 * the `ai` SDK, together, Hugging Face, AzureOpenAI) against loopback HTTP/1.1, h2c and WebSocket
 * servers in their own process. For each: unattested → one record naming the application's line;
 * attested → none; block → AttestationError and the servers receive nothing.
 */
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import http, { request as namedRequest } from "node:http";
import { Writable } from "node:stream";
import http2 from "node:http2";
import axios from "axios";
import got from "got";
import nodeFetch from "node-fetch";
import { WebSocket as WsClient } from "ws";
import * as undici from "undici";
import OpenAI, { AzureOpenAI } from "openai";
import { BedrockRuntimeClient, ConverseCommand } from "@aws-sdk/client-bedrock-runtime";
import { CohereClientV2 } from "cohere-ai";
import { ChatOpenAI, OpenAIEmbeddings } from "@langchain/openai";
import {
  Agent,
  run,
  Runner,
  setDefaultOpenAIClient,
  setOpenAIAPI,
  setTracingDisabled,
} from "@openai/agents";
import { generateText } from "ai";
import { createAnthropic } from "@ai-sdk/anthropic";
import Together from "together-ai";
import { InferenceClient } from "@huggingface/inference";
import { attest, AttestationError, enableGuard, type GuardRecord } from "../mod.ts";
import { freshContext, lineHere } from "./support/mock_ai_server.ts";
import { type AiServers, startAiServers } from "./support/ai_servers_client.ts";
import { aiCalls } from "./support/records.ts";
import { barrier, isAttestationError } from "./support/block_checks.ts";

const runtime = (globalThis as { Deno?: unknown; Bun?: unknown }).Deno
  ? "deno"
  : (globalThis as { Bun?: unknown }).Bun
  ? "bun"
  : "node";

let servers: AiServers;
// A fetch taken before any guard exists, as a library that caches it at load would.
const capturedFetch = globalThis.fetch;

before(async () => {
  servers = await startAiServers();
  setTracingDisabled(true); // the agents SDK would export traces to OpenAI
  setOpenAIAPI("chat_completions");
  setDefaultOpenAIClient(openai());
});
after(() => servers.close());
beforeEach(freshContext);

function openai(): OpenAI {
  return new OpenAI({ apiKey: "sk-test", baseURL: `${servers.http1}/v1`, maxRetries: 0 });
}

const CLIENTS = [
  OpenAI,
  AzureOpenAI,
  BedrockRuntimeClient,
  CohereClientV2,
  ChatOpenAI,
  OpenAIEmbeddings,
  Runner,
  Together,
  WsClient,
];

const THIS_FILE = "tests/guard_transports.test.ts";
/** The line of the AI call the case under test makes (set by the case itself). */
let site = 0;

const chat = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });

/** A raw node:http POST; resolves with the response body. */
function httpPost(url: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    site = lineHere() + 1;
    const req = http.request(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A raw node:http2 (h2c) POST on a fresh session; resolves with the response body. */
function h2Post(origin: string, path: string, body: string): Promise<string> {
  const session = http2.connect(origin);
  session.on("error", () => {});
  return new Promise<string>((resolve, reject) => {
    try {
      site = lineHere() + 1;
      const stream = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/json",
      });
      let text = "";
      stream.setEncoding("utf8");
      stream.on("data", (c) => (text += c));
      stream.on("end", () => resolve(text));
      stream.on("error", reject);
      stream.end(body);
    } catch (error) {
      reject(error);
    }
  }).finally(() => session.close());
}

/** Opens a WebSocket (either class), resolves with the first message. */
function firstMessage(
  socket: { addEventListener?: unknown; on?: unknown; close(): void },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = socket as {
      addEventListener(t: string, f: (e: { data?: unknown }) => void): void;
      close(): void;
    };
    s.addEventListener("message", (e) => {
      resolve(String(e.data));
      s.close();
    });
    s.addEventListener("error", () => reject(new Error("websocket error")));
  });
}

interface Case {
  name: string;
  runtimes?: string[];
  /** Makes the AI call; returns what the host app would get. */
  call(): Promise<unknown>;
  /** What the app must still get with the guard on. */
  result(value: unknown): void;
  /** The path the servers see. */
  path: string;
  /** Runtimes on which no application frame is left when the request is made (README table). */
  noSiteOn?: string[];
  expect: Partial<GuardRecord>;
}

const CASES: Case[] = [
  {
    name: "raw node:http request()",
    call: () => httpPost(`${servers.http1}/v1/chat/completions`, chat),
    result: (v) => assert.match(String(v), /hello from mock/),
    path: "/v1/chat/completions",
    expect: { detector: "http", provider: "openai_compatible", operation: "chat" },
  },
  {
    name: "axios POST",
    call: async () => {
      site = lineHere() + 1;
      const r = await axios.post(`${servers.http1}/v1/chat/completions`, JSON.parse(chat));
      return r.data;
    },
    result: (v) =>
      assert.equal(
        (v as { choices: [{ message: { content: string } }] }).choices[0].message.content,
        "hello from mock",
      ),
    path: "/v1/chat/completions",
    expect: { detector: "http", provider: "openai_compatible", operation: "chat" },
  },
  {
    name: "got POST",
    call: async () => {
      site = lineHere() + 1;
      return await got.post(`${servers.http1}/v1/embeddings`, {
        json: { model: "text-embedding-3-small", input: "x" },
      }).json();
    },
    result: (v) => assert.equal((v as { object: string }).object, "list"),
    path: "/v1/embeddings",
    // got sends from `void request.flush()` after awaiting its hooks: no async frame leads back.
    noSiteOn: ["node", "deno", "bun"],
    expect: { detector: "http", operation: "embeddings" },
  },
  {
    name: "node-fetch 2",
    // Bun replaces node-fetch with its own, bound to the read-only Bun.fetch at load.
    runtimes: ["node", "deno"],
    call: async () => {
      site = lineHere() + 1;
      const r = await nodeFetch(`${servers.http1}/v1/chat/completions`, {
        method: "POST",
        body: chat,
      });
      return await r.json();
    },
    result: (v) => assert.equal((v as { id: string }).id, "chatcmpl-mock"),
    path: "/v1/chat/completions",
    expect: { detector: "http", operation: "chat" },
  },
  {
    name: "raw node:http2 (h2c) stream",
    call: () => h2Post(servers.http2, "/v1/chat/completions", chat),
    result: (v) => assert.match(String(v), /hello from mock/),
    path: "/v1/chat/completions",
    expect: { detector: "http2", provider: "openai_compatible", operation: "chat" },
  },
  {
    name: "@aws-sdk/client-bedrock-runtime Converse over h2c",
    call: async () => {
      const client = new BedrockRuntimeClient({
        region: "us-east-1",
        endpoint: servers.http2,
        credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
      });
      try {
        site = lineHere() + 1;
        const out = await client.send(
          new ConverseCommand({
            modelId: "anthropic.claude-3-haiku",
            messages: [{ role: "user", content: [{ text: "hi" }] }],
          }),
        );
        return out.output?.message?.content?.[0]?.text;
      } finally {
        client.destroy();
      }
    },
    result: (v) => assert.equal(v, "hello from mock"),
    path: "/model/anthropic.claude-3-haiku/converse",
    expect: {
      detector: "sdk",
      provider: "aws.bedrock",
      operation: "chat",
      model: "anthropic.claude-3-haiku",
      target: "bedrock.converse",
      server: "127.0.0.1",
    },
  },
  {
    name: "ws package to /v1/realtime",
    call: () => {
      site = lineHere() + 1;
      const socket = new WsClient(
        `${servers.http1.replace("http", "ws")}/v1/realtime?model=gpt-realtime`,
      );
      return firstMessage(socket as never);
    },
    result: (v) => assert.equal(JSON.parse(String(v)).type, "session.created"),
    path: "/v1/realtime?model=gpt-realtime",
    expect: { detector: "websocket", operation: "realtime", model: "gpt-realtime" },
  },
  {
    name: "global WebSocket to /v1/realtime",
    call: () => {
      site = lineHere() + 1;
      const socket = new WebSocket(
        `${servers.http1.replace("http", "ws")}/v1/realtime?model=gpt-realtime`,
      );
      return firstMessage(socket);
    },
    result: (v) => assert.equal(JSON.parse(String(v)).type, "session.created"),
    path: "/v1/realtime?model=gpt-realtime",
    expect: { detector: "websocket", operation: "realtime", model: "gpt-realtime" },
  },
  {
    name: "undici request()",
    runtimes: ["node", "deno"],
    call: async () => {
      site = lineHere() + 1;
      const r = await undici.request(`${servers.http1}/v1/chat/completions`, {
        method: "POST",
        body: chat,
      });
      return await r.body.json();
    },
    result: (v) => assert.equal((v as { id: string }).id, "chatcmpl-mock"),
    path: "/v1/chat/completions",
    expect: { detector: "undici", operation: "chat" },
  },
  {
    name: "undici fetch() and stream() through a custom Agent",
    runtimes: ["node", "deno"],
    call: async () => {
      const dispatcher = new undici.Agent();
      try {
        site = lineHere() + 1;
        const r = await undici.fetch(`${servers.http1}/v1/chat/completions`, {
          method: "POST",
          body: chat,
          dispatcher,
        });
        return await r.json();
      } finally {
        await dispatcher.close();
      }
    },
    result: (v) => assert.equal((v as { id: string }).id, "chatcmpl-mock"),
    path: "/v1/chat/completions",
    expect: { detector: "undici", operation: "chat" },
  },
  {
    name: "undici stream()",
    runtimes: ["node", "deno"],
    call: async () => {
      let text = "";
      site = lineHere() + 1;
      await undici.stream(`${servers.http1}/v1/embeddings`, {
        method: "POST",
        body: "{}",
        opaque: null,
      }, () =>
        new Writable({
          write(chunk, _encoding, done) {
            text += chunk;
            done();
          },
        }));
      return JSON.parse(text);
    },
    result: (v) => assert.equal((v as { object: string }).object, "list"),
    path: "/v1/embeddings",
    expect: { detector: "undici", operation: "embeddings" },
  },
  {
    name: "an ESM named import of node:http request",
    runtimes: ["node"],
    call: () =>
      new Promise((resolve, reject) => {
        site = lineHere() + 1;
        const req = namedRequest(
          `${servers.http1}/v1/chat/completions`,
          { method: "POST" },
          (res) => {
            let text = "";
            res.on("data", (c) => (text += c));
            res.on("end", () => resolve(text));
          },
        );
        req.on("error", reject);
        req.end(chat);
      }),
    result: (v) => assert.match(String(v), /hello from mock/),
    path: "/v1/chat/completions",
    expect: { detector: "http", operation: "chat" },
  },
  {
    name: "a fetch captured before enableGuard()",
    runtimes: ["node"],
    call: async () => {
      site = lineHere() + 1;
      const r = await capturedFetch(`${servers.http1}/v1/chat/completions`, {
        method: "POST",
        body: chat,
      });
      return await r.json();
    },
    result: (v) => assert.equal((v as { id: string }).id, "chatcmpl-mock"),
    path: "/v1/chat/completions",
    expect: { detector: "undici", operation: "chat" },
  },
  {
    name: "cohere-ai CohereClientV2.chat",
    call: async () => {
      const cohere = new CohereClientV2({ token: "co-test", environment: servers.http1 });
      site = lineHere() + 1;
      const r = await cohere.chat({
        model: "command-r",
        messages: [{ role: "user", content: "hi" }],
      });
      return r.message?.content?.[0];
    },
    result: (v) => assert.equal((v as { text: string }).text, "hello from mock"),
    path: "/v2/chat",
    expect: {
      detector: "sdk",
      provider: "cohere",
      operation: "chat",
      model: "command-r",
      target: "cohere.v2.chat",
    },
  },
  {
    name: "LangChain ChatOpenAI.invoke",
    call: async () => {
      const model = new ChatOpenAI({
        model: "gpt-4o-mini",
        apiKey: "sk-test",
        configuration: { baseURL: `${servers.http1}/v1` },
        maxRetries: 0,
      });
      site = lineHere() + 1;
      const r = await model.invoke("hi");
      return r.content;
    },
    result: (v) => assert.equal(v, "hello from mock"),
    path: "/v1/chat/completions",
    expect: { detector: "sdk", provider: "openai", operation: "chat", model: "gpt-4o-mini" },
  },
  {
    name: "LangChain OpenAIEmbeddings.embedQuery",
    call: async () => {
      const embeddings = new OpenAIEmbeddings({
        model: "text-embedding-3-small",
        apiKey: "sk-test",
        configuration: { baseURL: `${servers.http1}/v1` },
        maxRetries: 0,
      });
      site = lineHere() + 1;
      return await embeddings.embedQuery("hi");
    },
    result: (v) => assert.deepEqual(v, [0.1, 0.2, 0.3]),
    path: "/v1/embeddings",
    expect: { detector: "sdk", operation: "embeddings" },
  },
  {
    name: "@openai/agents run()",
    call: async () => {
      const agent = new Agent({ name: "helper", instructions: "help", model: "gpt-4o-mini" });
      site = lineHere() + 1;
      const result = await run(agent, "hi");
      return result.finalOutput;
    },
    result: (v) => assert.equal(v, "hello from mock"),
    path: "/v1/chat/completions",
    expect: { detector: "sdk", provider: "openai", operation: "chat", model: "gpt-4o-mini" },
  },
  {
    name: "ai generateText with @ai-sdk/anthropic",
    call: async () => {
      const anthropic = createAnthropic({ apiKey: "sk-ant-test", baseURL: `${servers.http1}/v1` });
      site = lineHere() + 1;
      const r = await generateText({
        model: anthropic("claude-3-5-haiku-latest"),
        prompt: "hi",
        maxRetries: 0,
      });
      return r.text;
    },
    result: (v) => assert.equal(v, "hello from mock"),
    path: "/v1/messages",
    // Bun drops the async frames of `ai`'s retry helper; generateText is an ESM export (read-only).
    noSiteOn: ["bun"],
    expect: { detector: "fetch", operation: "chat", model: "claude-3-5-haiku-latest" },
  },
  {
    name: "together-ai chat.completions.create",
    call: async () => {
      const together = new Together({
        apiKey: "tg-test",
        baseURL: `${servers.http1}/v1`,
        maxRetries: 0,
      });
      site = lineHere() + 1;
      const r = await together.chat.completions.create({
        model: "meta-llama/Llama-3-8b",
        messages: [{ role: "user", content: "hi" }],
      });
      return r.choices[0]?.message?.content;
    },
    result: (v) => assert.equal(v, "hello from mock"),
    path: "/v1/chat/completions",
    expect: {
      detector: "sdk",
      provider: "together",
      operation: "chat",
      model: "meta-llama/Llama-3-8b",
    },
  },
  {
    name: "@huggingface/inference chatCompletion",
    call: async () => {
      const hf = new InferenceClient("hf_test", { endpointUrl: `${servers.http1}` });
      site = lineHere() + 1;
      const r = await hf.chatCompletion({
        model: "tgi",
        messages: [{ role: "user", content: "hi" }],
      });
      return r.choices[0]?.message?.content;
    },
    result: (v) => assert.equal(v, "hello from mock"),
    path: "/v1/chat/completions",
    expect: { detector: "fetch", operation: "chat" },
  },
  {
    name: "AzureOpenAI chat.completions.create",
    call: async () => {
      const azure = new AzureOpenAI({
        apiKey: "az-test",
        endpoint: servers.http1,
        apiVersion: "2024-10-21",
        deployment: "gpt-4o-prod",
        maxRetries: 0,
      });
      site = lineHere() + 1;
      const r = await azure.chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "hi" }],
      });
      return r.choices[0]?.message?.content;
    },
    result: (v) => assert.equal(v, "hello from mock"),
    path: "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21",
    expect: { detector: "sdk", provider: "azure.ai.openai", operation: "chat", model: "gpt-4o" },
  },
];

function guard(mode: "report" | "block") {
  return enableGuard({ mode, sinks: ["memory"], clients: CLIENTS, discover: false });
}

for (const c of CASES) {
  const skip = c.runtimes && !c.runtimes.includes(runtime)
    ? `${c.name}: no hook on ${runtime} (README: what the guard can see)`
    : false;

  test(`${c.name}: unattested → one record with the application's line; result unchanged`, {
    skip,
  }, async () => {
    const g = guard("report");
    try {
      const before = servers.seen.length;
      c.result(await c.call());
      const records = aiCalls(g.records());
      assert.equal(records.length, 1, `records: ${JSON.stringify(records)}`);
      const [r] = records;
      for (const [key, value] of Object.entries(c.expect)) {
        assert.equal(r![key as keyof GuardRecord], value, `${key} of ${JSON.stringify(r)}`);
      }
      assert.equal(r!.action, "reported");
      if (c.noSiteOn?.includes(runtime)) assert.equal(r!.call_site, null);
      else assert.equal(r!.call_site, `${THIS_FILE}:${site}:${r!.call_site?.split(":")[2]}`);
      await barrier(servers);
      assert.ok(servers.seen.slice(before).some((s) => s.path === c.path), "the call went through");
    } finally {
      await g.disable();
    }
  });

  test(`${c.name}: attested → no record`, { skip }, async () => {
    const g = guard("report");
    try {
      c.result(await attest(() => c.call(), { id: "reviewed" })());
      assert.deepEqual(aiCalls(g.records()), []);
      assert.equal(g.stats().calls >= 1, true, "the guard saw the call");
    } finally {
      await g.disable();
    }
  });

  test(`${c.name}: block → AttestationError and the servers receive nothing`, {
    skip,
  }, async () => {
    await barrier(servers); // what earlier tests sent has arrived
    const g = guard("block");
    try {
      const before = servers.seen.length;
      await assert.rejects(async () => await c.call(), (error) => {
        assert.ok(isAttestationError(error), `got ${error}`);
        return true;
      });
      await barrier(servers);
      const received = servers.seen.slice(before).filter((s) => !s.path.startsWith("/barrier/"));
      assert.deepEqual(received, []);
      const [r] = aiCalls(g.records());
      assert.equal(r?.action, "blocked");
    } finally {
      await g.disable();
    }
  });
}

test("non-AI http, http2, WebSocket and undici traffic passes untouched and unrecorded", async () => {
  const g = guard("block");
  try {
    assert.match(await httpPost(`${servers.http1}/v1/models`, ""), /mock-model/);
    assert.match(await h2Post(servers.http2, "/v1/models", ""), /mock-model/);
    const echo = new WsClient(`${servers.http1.replace("http", "ws")}/echo`);
    await new Promise((resolve, reject) => {
      echo.on("open", () => echo.send("ping"));
      echo.on("message", (data) => resolve(String(data)));
      echo.on("error", reject);
    });
    echo.close();
    if (runtime !== "bun") {
      const r = await undici.request(`${servers.http1}/v1/models`);
      assert.equal((await r.body.json() as { object: string }).object, "list");
    }
    assert.deepEqual(aiCalls(g.records()), []);
    assert.equal(g.stats().calls, 0);
  } finally {
    await g.disable();
  }
});

test("disable puts node:http, node:http2 and WebSocket back exactly", async () => {
  const before = {
    request: http.request,
    get: http.get,
    connect: http2.connect,
    WebSocket: globalThis.WebSocket,
  };
  const g = guard("report");
  assert.notEqual(http.request, before.request);
  assert.notEqual(http2.connect, before.connect);
  assert.notEqual(globalThis.WebSocket, before.WebSocket);
  await g.disable();
  assert.equal(http.request, before.request);
  assert.equal(http.get, before.get);
  assert.equal(http2.connect, before.connect);
  assert.equal(globalThis.WebSocket, before.WebSocket);
});

test("an http2 session opened before enableGuard() is guarded on its next request", async () => {
  // A guard enabled in code may find sessions the app opened already (the preload, which starts
  // first, does not look for them: every session it sees comes through its connect).
  const session = http2.connect(servers.http2);
  session.on("error", () => {});
  await new Promise((resolve) => session.once("connect", resolve));
  const g = guard("report");
  try {
    const text = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ":method": "POST", ":path": "/v1/chat/completions" });
      let body = "";
      stream.setEncoding("utf8");
      stream.on("data", (c) => (body += c));
      stream.on("end", () => resolve(body));
      stream.on("error", reject);
      stream.end(chat);
    });
    assert.match(text, /hello from mock/);
    const [r, ...rest] = aiCalls(g.records());
    assert.equal(rest.length, 0);
    assert.equal(r?.detector, "http2");
  } finally {
    session.close();
    await g.disable();
  }
});

test("node: a ClientRequest built directly is caught when created; block destroys it unsent", {
  skip: runtime !== "node" &&
    "http.client.request.created is Node's (README: what the guard can see)",
}, async () => {
  const send = () =>
    new Promise<string>((resolve, reject) => {
      site = lineHere() + 1;
      const req = new http.ClientRequest(`${servers.http1}/v1/chat/completions`, {
        method: "POST",
      });
      req.on("response", (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end(chat);
    });
  let g = guard("report");
  try {
    assert.match(await send(), /hello from mock/);
    const [r, ...rest] = aiCalls(g.records());
    assert.equal(rest.length, 0);
    assert.equal(r!.detector, "http");
    assert.equal(r!.call_site?.split(":").slice(0, 2).join(":"), `${THIS_FILE}:${site}`);
  } finally {
    await g.disable();
  }
  await barrier(servers);
  g = guard("block");
  try {
    const before = servers.seen.length;
    await assert.rejects(send(), AttestationError);
    await barrier(servers);
    assert.deepEqual(servers.seen.slice(before).filter((s) => !s.path.startsWith("/barrier/")), []);
  } finally {
    await g.disable();
  }
});

test("a failing AI request fails as it would without the guard, which adds no error listener", async () => {
  // A port nobody listens on: the connection is refused.
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const attempt = () =>
    new Promise<{ code: unknown; listeners: number }>((resolve) => {
      const req = http.request(`http://127.0.0.1:${port}/v1/chat/completions`, { method: "POST" });
      const listeners = req.listenerCount("error");
      req.on("error", (error) => resolve({ code: (error as { code?: unknown }).code, listeners }));
      req.end(chat);
    });
  const without = await attempt();
  const g = guard("report");
  try {
    const withGuard = await attempt();
    assert.deepEqual(withGuard, without);
    assert.equal(aiCalls(g.records()).length, 1, "the guard saw the call");
  } finally {
    await g.disable();
  }
});
