// @runtimes deno bun node
/**
 * More attacks on block mode: a request the guard judged ordinary whose `path` the app changes
 * before the runtime writes the request line (`req.path = "/v1/chat/completions"` between
 * `http.request()` and `end()`; Node, Deno and Bun all read `path` then). Each must throw
 * AttestationError and reach no server, against the real loopback servers; report mode records
 * the call and sends it as the app asked; an ordinary change of path is left alone.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { enableGuard } from "../mod.ts";
import { type AiServers, startAiServers } from "./support/ai_servers_client.ts";
import { barrier, isAttestationError } from "./support/block_checks.ts";
import { aiCalls } from "./support/records.ts";
import { runtime } from "./support/worker_kinds.ts";

let servers: AiServers;
let base = "";
before(async () => {
  servers = await startAiServers();
  base = servers.http1;
});
after(() => servers.close());

const CHAT = "/v1/chat/completions";

type Make = (onResponse: (res: http.IncomingMessage) => void) => http.ClientRequest;

/**
 * Makes a request with `make`, sets its `path` to `path`, then ends it with a body. Resolves when
 * the response ends; rejects with what the assignment threw (the request is then destroyed).
 */
function sendWithPath(make: Make, path: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = make((res) => {
      res.resume();
      res.on("end", resolve);
    });
    req.on("error", reject);
    try {
      req.path = path;
    } catch (error) {
      req.destroy();
      reject(error);
      return;
    }
    req.end("{}");
  });
}

const MAKERS: Array<{ name: string; make: Make }> = [
  {
    name: "http.request(options)",
    make: (cb) => {
      const { hostname, port } = new URL(base);
      return http.request({ hostname, port, method: "POST", path: "/harmless" }, cb);
    },
  },
  {
    name: "http.request(URL)",
    make: (cb) => http.request(new URL(`${base}/harmless`), { method: "POST" }, cb),
  },
  {
    name: "http.request(string)",
    make: (cb) => http.request(`${base}/harmless`, { method: "POST" }, cb),
  },
  {
    name: "new http.ClientRequest(options)",
    make: (cb) => {
      const { hostname, port } = new URL(base);
      return new http.ClientRequest({ hostname, port, method: "POST", path: "/harmless" }, cb);
    },
  },
];

for (const { name, make } of MAKERS) {
  test(`block: ${name} to /harmless, then req.path = ${CHAT} → AttestationError, nothing arrives`, async () => {
    await barrier(servers);
    const g = enableGuard({ mode: "block", sinks: ["memory"], discover: false });
    try {
      const before = servers.seen.length;
      let outcome: unknown = "sent";
      try {
        await sendWithPath(make, `${CHAT}?path-set`);
      } catch (error) {
        outcome = error;
      }
      await barrier(servers);
      const received = servers.seen.slice(before).filter((s) => !s.path.startsWith("/barrier/"));
      assert.deepEqual(received, [], `${runtime}: the server received it`);
      assert.ok(isAttestationError(outcome), `${runtime}: got ${outcome}`);
      assert.equal(aiCalls(g.records())[0]?.action, "blocked");
    } finally {
      await g.disable();
    }
  });

  test(`report: ${name} to /harmless, then req.path = ${CHAT} → one record, it arrives`, async () => {
    await barrier(servers);
    const g = enableGuard({ mode: "report", sinks: ["memory"], discover: false });
    try {
      const before = servers.seen.length;
      await sendWithPath(make, `${CHAT}?path-set-report`);
      const records = aiCalls(g.records());
      assert.equal(records.length, 1, `${runtime}: records ${JSON.stringify(records)}`);
      assert.equal(records[0]!.action, "reported");
      assert.equal(records[0]!.target, "http POST 127.0.0.1/v1/chat/completions");
      await barrier(servers);
      const received = servers.seen.slice(before).filter((s) => !s.path.startsWith("/barrier/"));
      assert.deepEqual(received.map((s) => s.path), [`${CHAT}?path-set-report`]);
    } finally {
      await g.disable();
    }
  });

  test(`block: ${name} to /harmless, then req.path = /other → sent as changed, no record`, async () => {
    await barrier(servers);
    const g = enableGuard({ mode: "block", sinks: ["memory"], discover: false });
    try {
      const before = servers.seen.length;
      let read = "";
      await sendWithPath((cb) => {
        const req = make(cb);
        const keys = Object.keys(req).includes("path");
        req.path = "/other";
        read = `${req.path} ${keys === Object.keys(req).includes("path")}`;
        return req;
      }, "/other?again");
      assert.equal(read, "/other true", "the app reads what it set; its keys are unchanged");
      assert.deepEqual(aiCalls(g.records()), []);
      await barrier(servers);
      const received = servers.seen.slice(before).filter((s) => !s.path.startsWith("/barrier/"));
      assert.deepEqual(received.map((s) => s.path), ["/other?again"]);
    } finally {
      await g.disable();
    }
  });
}

/**
 * An AI path written in another case: servers that route without case (Express's default, Go's
 * Fiber, ASP.NET) answer `/V1/Chat/Completions` as the endpoint, so the registry reads any-host
 * endings without case.
 */
const CASED: Array<{ name: string; send(): Promise<unknown> }> = [
  {
    name: "fetch of /V1/Chat/Completions",
    send: () => fetch(`${base}/V1/Chat/Completions?cased`, { method: "POST", body: "{}" }),
  },
  {
    name: "http.request of /V1/CHAT/COMPLETIONS",
    send: () =>
      sendWithPath((cb) => {
        const { hostname, port } = new URL(base);
        return http.request({ hostname, port, method: "POST", path: "/V1/CHAT/COMPLETIONS" }, cb);
      }, "/V1/CHAT/COMPLETIONS?cased"),
  },
  {
    name: "fetch of a Gemini model's :GenerateContent",
    send: () =>
      fetch(`${base}/v1beta/models/gemini-2.0-flash:GenerateContent`, {
        method: "POST",
        body: "{}",
      }),
  },
];

for (const { name, send } of CASED) {
  test(`block: ${name} → AttestationError, nothing arrives`, async () => {
    await barrier(servers);
    const g = enableGuard({ mode: "block", sinks: ["memory"], discover: false });
    try {
      const before = servers.seen.length;
      let outcome: unknown = "sent";
      try {
        const response = await send();
        if (response instanceof Response) await response.text();
      } catch (error) {
        outcome = error;
      }
      await barrier(servers);
      const received = servers.seen.slice(before).filter((s) => !s.path.startsWith("/barrier/"));
      assert.deepEqual(received, [], `${runtime}: the server received it`);
      assert.ok(isAttestationError(outcome), `${runtime}: got ${outcome}`);
      const records = aiCalls(g.records());
      assert.equal(records[0]?.action, "blocked");
      assert.ok(records[0]?.operation === "chat" || records[0]?.operation === "generate_content");
    } finally {
      await g.disable();
    }
  });
}
