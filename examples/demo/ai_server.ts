/**
 * A loopback stand-in for the OpenAI and Anthropic APIs: just enough of their wire format (chat
 * completions, embeddings, messages; no streaming) for the real SDK clients to complete a call, so
 * the demo runs offline, with no key. It counts the requests it receives: block mode must stop a
 * call before any byte is sent.
 *
 * Run on its own, it prints its URL and serves until stopped, for trying the README's examples:
 * `node examples/demo/ai_server.ts`, then `OPENAI_BASE_URL=<url>/v1 OPENAI_API_KEY=sk-demo …`.
 *
 * @module
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A running server: its base URL, how many requests reached it, and how to stop it. */
export interface AiServer {
  url: string;
  requests(): number;
  close(): Promise<void>;
}

const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };

function reply(path: string, model: string): unknown {
  if (path.endsWith("/v1/chat/completions")) {
    return {
      id: "chatcmpl-demo",
      object: "chat.completion",
      created: 1_700_000_000,
      model,
      choices: [{
        index: 0,
        message: { role: "assistant", content: "a reply from the demo server" },
        finish_reason: "stop",
        logprobs: null,
      }],
      usage,
    };
  }
  if (path.endsWith("/v1/embeddings")) {
    return {
      object: "list",
      model,
      data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2, 0.3] }],
      usage,
    };
  }
  if (path.endsWith("/v1/messages")) {
    return {
      id: "msg_demo",
      type: "message",
      role: "assistant",
      model,
      content: [{ type: "text", text: "a reply from the demo server" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 3, output_tokens: 2 },
    };
  }
  return null;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/**
 * Starts the server on 127.0.0.1, on a free port.
 *
 * @example Point an SDK client at it
 * ```ts
 * import OpenAI from "openai";
 * import { startAiServer } from "./ai_server.ts";
 *
 * const server = await startAiServer();
 * const openai = new OpenAI({ apiKey: "sk-demo", baseURL: `${server.url}/v1` });
 * await openai.embeddings.create({ model: "text-embedding-3-small", input: "hello" });
 * await server.close();
 * ```
 */
export function startAiServer(): Promise<AiServer> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      let model = "unknown-model";
      try {
        const parsed = JSON.parse(body) as { model?: unknown };
        if (typeof parsed.model === "string") model = parsed.model;
      } catch {
        // not JSON: answered all the same, with a placeholder model
      }
      const path = (req.url ?? "/").split("?")[0]!;
      const answer = reply(path, model);
      if (answer) send(res, 200, answer);
      else send(res, 404, { error: { message: `the demo server has no ${path}` } });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests: () => requests,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

if (import.meta.main) {
  const server = await startAiServer();
  console.log(`demo AI server on ${server.url} (OpenAI: ${server.url}/v1); Ctrl-C stops it`);
}
