/**
 * A loopback server that speaks just enough of the OpenAI, Anthropic, Gemini, Mistral and Ollama
 * wire formats for the real SDK clients to complete calls, stream, and fail on request.
 * Runs on Node, Deno and Bun through node:http.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface MockAiServer {
  url: string;
  port: number;
  requests: SeenRequest[];
  close(): Promise<void>;
}

function sse(res: MockResponse, events: Array<{ event?: string; data: unknown }>, done = false) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const e of events) {
    if (e.event) res.write(`event: ${e.event}\n`);
    res.write(`data: ${typeof e.data === "string" ? e.data : JSON.stringify(e.data)}\n\n`);
  }
  if (done) res.write("data: [DONE]\n\n");
  res.end();
}

function json(res: MockResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json", "x-request-id": "req_mock" });
  res.end(JSON.stringify(body));
}

const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };

function openaiChat(model: string) {
  return {
    id: "chatcmpl-mock",
    object: "chat.completion",
    created: 1_700_000_000,
    model,
    choices: [{
      index: 0,
      message: { role: "assistant", content: "hello from mock" },
      finish_reason: "stop",
      logprobs: null,
    }],
    usage,
  };
}

/** The parts of a request and a response the handler uses: node:http and the http2 compat API fit. */
export interface MockRequest {
  url?: string | undefined;
}
export interface MockResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): unknown;
  end(chunk?: string): unknown;
}

/** Answers one request the way the provider would; shared by the HTTP/1.1 and h2c servers. */
export function handle(req: MockRequest, body: string, res: MockResponse): void {
  const path = (req.url ?? "/").split("?")[0]!;
  let payload: Record<string, unknown> = {};
  try {
    payload = body ? JSON.parse(body) : {};
  } catch {
    // not JSON: leave empty
  }
  const model = typeof payload.model === "string" ? payload.model : "unknown-model";
  const status = /^error-(\d{3})$/.exec(model)?.[1];
  if (status) {
    return json(res, Number(status), {
      error: { message: `mock failure ${status}`, type: "mock_error", code: status },
      type: "error",
    });
  }
  if (path.endsWith("/chat/completions")) {
    if (payload.stream) {
      const chunk = (delta: object, finish: string | null) => ({
        id: "chatcmpl-mock",
        object: "chat.completion.chunk",
        created: 1_700_000_000,
        model,
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
      return sse(res, [
        { data: chunk({ role: "assistant", content: "hel" }, null) },
        { data: chunk({ content: "lo" }, null) },
        { data: chunk({}, "stop") },
      ], true);
    }
    return json(res, 200, openaiChat(model));
  }
  if (path.endsWith("/v1/completions") || path.endsWith("/fim/completions")) {
    return json(res, 200, {
      id: "cmpl-mock",
      object: "text_completion",
      created: 1_700_000_000,
      model,
      choices: [{ index: 0, text: "hello", finish_reason: "stop", logprobs: null }],
      usage,
    });
  }
  if (path.endsWith("/embeddings")) {
    return json(res, 200, {
      object: "list",
      id: "emb-mock",
      model,
      data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2, 0.3] }],
      usage,
    });
  }
  if (path.endsWith("/responses")) {
    return json(res, 200, {
      id: "resp_mock",
      object: "response",
      created_at: 1_700_000_000,
      status: "completed",
      model,
      output: [{
        type: "message",
        id: "msg_mock",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "hello from mock", annotations: [] }],
      }],
      usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 },
    });
  }
  if (path.endsWith("/v1/messages")) {
    const message = {
      id: "msg_mock",
      type: "message",
      role: "assistant",
      model,
      content: [{ type: "text", text: "hello from mock" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 3, output_tokens: 2 },
    };
    if (payload.stream) {
      return sse(res, [
        {
          event: "message_start",
          data: { type: "message_start", message: { ...message, content: [], stop_reason: null } },
        },
        {
          event: "content_block_start",
          data: {
            type: "content_block_start",
            index: 0,
            content_block: { type: "text", text: "" },
          },
        },
        {
          event: "content_block_delta",
          data: {
            type: "content_block_delta",
            index: 0,
            delta: { type: "text_delta", text: "hello" },
          },
        },
        { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
        {
          event: "message_delta",
          data: {
            type: "message_delta",
            delta: { stop_reason: "end_turn", stop_sequence: null },
            usage: { output_tokens: 2 },
          },
        },
        { event: "message_stop", data: { type: "message_stop" } },
      ]);
    }
    return json(res, 200, message);
  }
  if (path.endsWith(":generateContent") || path.endsWith(":streamGenerateContent")) {
    const response = {
      candidates: [{
        content: { role: "model", parts: [{ text: "hello from mock" }] },
        finishReason: "STOP",
        index: 0,
      }],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
      modelVersion: path.split("/").at(-1)!.split(":")[0],
    };
    if (path.endsWith(":streamGenerateContent")) return sse(res, [{ data: response }]);
    return json(res, 200, response);
  }
  if (path.endsWith(":embedContent") || path.endsWith(":batchEmbedContents")) {
    return json(res, 200, {
      embedding: { values: [0.1, 0.2] },
      embeddings: [{ values: [0.1, 0.2] }],
    });
  }
  if (path === "/api/chat" || path === "/api/generate") {
    const chat = path === "/api/chat";
    const base = { model, created_at: new Date(0).toISOString() };
    const piece = chat
      ? { ...base, message: { role: "assistant", content: "hello" }, done: false }
      : { ...base, response: "hello", done: false };
    const last = {
      ...base,
      ...(chat ? { message: { role: "assistant", content: "" } } : { response: "" }),
      done: true,
      done_reason: "stop",
      total_duration: 1,
      eval_count: 2,
    };
    if (payload.stream === false) {
      return json(res, 200, { ...piece, done: true, done_reason: "stop" });
    }
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    res.write(JSON.stringify(piece) + "\n");
    res.end(JSON.stringify(last) + "\n");
    return;
  }
  if (path === "/api/embed") {
    return json(res, 200, { model, embeddings: [[0.1, 0.2]] });
  }
  // Bedrock Runtime (restJson1): Converse and InvokeModel.
  if (/\/model\/[^/]+\/converse$/.test(path)) {
    return json(res, 200, {
      output: { message: { role: "assistant", content: [{ text: "hello from mock" }] } },
      stopReason: "end_turn",
      usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 },
      metrics: { latencyMs: 1 },
    });
  }
  if (/\/model\/[^/]+\/invoke$/.test(path)) {
    return json(res, 200, { completion: "hello from mock", stop_reason: "end_turn" });
  }
  // Cohere v2 and v1.
  if (path === "/v2/chat") {
    return json(res, 200, {
      id: "cohere-mock",
      finish_reason: "COMPLETE",
      message: { role: "assistant", content: [{ type: "text", text: "hello from mock" }] },
      usage: {
        billed_units: { input_tokens: 3, output_tokens: 2 },
        tokens: { input_tokens: 3, output_tokens: 2 },
      },
    });
  }
  if (path === "/v2/embed" || path === "/v1/embed") {
    return json(res, 200, {
      id: "cohere-embed",
      response_type: "embeddings_floats",
      embeddings: path === "/v2/embed" ? { float: [[0.1, 0.2]] } : [[0.1, 0.2]],
      texts: ["x"],
      meta: { api_version: { version: "2" } },
    });
  }
  if (path === "/v1/chat") {
    return json(res, 200, {
      text: "hello from mock",
      generation_id: "cohere-gen",
      finish_reason: "COMPLETE",
      chat_history: [],
    });
  }
  if (path.endsWith("/models")) {
    return json(res, 200, {
      object: "list",
      data: [{ id: "mock-model", object: "model", created: 0, owned_by: "mock" }],
    });
  }
  json(res, 404, { error: { message: `no mock for ${path}` } });
}

/** Starts the server on an ephemeral loopback port. */
export function startMockAiServer(): Promise<MockAiServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body,
      });
      handle(req, body, res);
    });
  });
  // Node's default (5 s) closes an idle keep-alive socket while a client on a loaded machine may be
  // reusing it (ECONNRESET on a request that never reached the handler); the tests' clients do not
  // retry, so idle sockets stay open until close() ends them all.
  server.keepAliveTimeout = 120_000;
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        requests,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}

/** The line of the caller, so a test can name the line of the AI call it makes next. */
export function lineHere(): number {
  const line = new Error().stack!.split("\n")[2]!;
  return Number(/:(\d+):\d+\)?\s*$/.exec(line)![1]);
}

/**
 * Deno's test runner can start the next test inside the async context a previous test's SDK call
 * left behind (seen with the Mistral SDK; not reproducible in a plain `deno run`, nor on Node or
 * Bun). Tests that make SDK calls start from a fresh context store so no test sees another's flag.
 */
export async function freshContext(): Promise<void> {
  const { setContextStorage } = await import("../../src/context.ts");
  setContextStorage(null);
}
