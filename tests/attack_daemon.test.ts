// @runtimes deno bun node
/**
 * Attacks on the daemon step (issue 22): a listener at the daemon's socket path that is not this
 * user's daemon — in a directory others can write — must get no record; the records go to the
 * report file instead of being acknowledged and dropped.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createServer, type Server } from "node:net";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enableGuard } from "../mod.ts";
import { aiCallsIn } from "./support/records.ts";

let dir: string;
let ai: http.Server;
let url = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "aiguard-attack-daemon-"));
  ai = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("{}"));
  });
  await new Promise<void>((resolve) => ai.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(ai.address() as { port: number }).port}/v1/chat/completions`;
});
after(async () => {
  await new Promise((resolve) => ai.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** A listener that acknowledges every flush line and keeps nothing: what it was sent, in lines. */
async function impostor(socketPath: string): Promise<{ server: Server; lines: string[] }> {
  const lines: string[] = [];
  const server = createServer((socket) => {
    let buffered = "";
    socket.on("error", () => {});
    socket.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      let nl;
      while ((nl = buffered.indexOf("\n")) !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        lines.push(line);
        const id = JSON.parse(line) as { event?: string; id?: number };
        if (id.event === "flush") socket.write(`{"ack":${id.id}}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { server, lines };
}

test("a listener in a directory others can write gets no record: the records go to the file", async () => {
  const shared = join(dir, "shared");
  await mkdir(shared);
  await chmod(shared, 0o777); // anyone could have put a socket here
  const socketPath = join(shared, "guard.sock");
  const fake = await impostor(socketPath);
  const reportPath = join(dir, "own.jsonl");
  const g = enableGuard({ mode: "report", socketPath, reportPath, discover: false });
  try {
    for (let i = 0; i < 3; i++) await (await fetch(url, { method: "POST", body: "{}" })).text();
  } finally {
    await g.disable();
    await new Promise((resolve) => fake.server.close(resolve));
  }
  assert.deepEqual(fake.lines, [], "the impostor was sent records");
  const written = await aiCallsIn(reportPath);
  assert.equal(written.length, 3);
});
