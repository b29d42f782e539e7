/**
 * Loopback AI servers in a process of their own (run by the project's Node): HTTP/1.1, h2c and
 * WebSocket, answering like the providers do (see `mock_ai_server.ts`). Every runtime's tests talk
 * to the same real servers. The process prints one JSON line with the ports, then one line per
 * request it receives, so a test can assert what reached the network (nothing, in block mode).
 */
import { createServer } from "node:http";
import { createServer as createH2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { handle } from "./mock_ai_server.ts";

function seen(protocol: string, method: string, path: string): void {
  process.stdout.write(`${JSON.stringify({ seen: { protocol, method, path } })}\n`);
}

const h1 = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    seen("http/1.1", req.method ?? "GET", req.url ?? "/");
    // `/redirect?to=<path>`: a 307 hop from an ordinary path to (say) an AI one.
    const to = new URL(req.url ?? "/", "http://x").searchParams.get("to");
    if (req.url?.startsWith("/redirect?") && to !== null) {
      res.writeHead(307, { location: to }).end();
      return;
    }
    handle(req, Buffer.concat(chunks).toString("utf8"), res);
  });
});

const h2 = createH2Server((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    seen("h2c", req.method, req.url);
    handle(req, Buffer.concat(chunks).toString("utf8"), res);
  });
});
// A session that only connects (its stream was blocked) is no request: nothing to print.

const wss = new WebSocketServer({ noServer: true });
h1.on("upgrade", (req, socket, head) => {
  seen("websocket", req.method ?? "GET", req.url ?? "/");
  wss.handleUpgrade(req, socket, head, (ws) => {
    if ((req.url ?? "").startsWith("/v1/realtime")) {
      ws.send(JSON.stringify({
        type: "session.created",
        event_id: "event_mock",
        session: { id: "sess_mock", object: "realtime.session", model: "gpt-realtime" },
      }));
    }
    ws.on("message", (data) => ws.send(String(data)));
  });
});

function listen(server: { listen(port: number, host: string, cb: () => void): unknown }) {
  return new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(
        ((server as never as { address(): AddressInfo })
          .address()).port,
      ))
  );
}

const [http1, http2] = await Promise.all([listen(h1), listen(h2)]);
process.stdout.write(`${JSON.stringify({ ports: { http1, http2 } })}\n`);
// The test closes stdin when it is done: exit then, whatever is still open.
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
