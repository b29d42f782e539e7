// @runtimes deno bun node
/**
 * More attacks on block mode, against the real loopback servers: a request the guard judged
 * ordinary whose `path` the app changes before the runtime writes the request line
 * (`req.path = "/v1/chat/completions"` between `http.request()` and `end()`; Node, Deno and Bun all
 * read `path` then), a `path` that is an object the runtime stringifies, and an AI path in another
 * case. Each must throw AttestationError and reach no server; report mode records the call and
 * sends it as the app asked; an ordinary change of path is left alone.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { enableGuard } from "../mod.ts";
import { type AiServers, startAiServers } from "./support/ai_servers_client.ts";
import { barrier, isAttestationError } from "./support/block_checks.ts";
import { aiCalls } from "./support/records.ts";
import type { GuardRecord } from "../src/report/record.ts";
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
 * Makes a request with `make`, sets its `path` to `path` (if given), then ends it with a body.
 * Resolves when the response ends; rejects with what the assignment threw (the request is then
 * destroyed).
 */
function sendWithPath(make: Make, path?: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = make((res) => {
      res.resume();
      res.on("end", resolve);
    });
    req.on("error", reject);
    try {
      if (path !== undefined) req.path = path;
    } catch (error) {
      req.destroy();
      reject(error);
      return;
    }
    req.end("{}");
  });
}

/** What one attempt did: how the call ended, the paths that arrived, the AI calls recorded. */
interface Attempt {
  outcome: unknown;
  received: string[];
  records: GuardRecord[];
}

/** Runs `send` under a fresh guard in `mode`, between two barriers. */
async function attempt(mode: "block" | "report", send: () => Promise<unknown>): Promise<Attempt> {
  await barrier(servers);
  const g = enableGuard({ mode, sinks: ["memory"], discover: false });
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
    const received = servers.seen.slice(before).map((s) => s.path)
      .filter((path) => !path.startsWith("/barrier/"));
    return { outcome, received, records: aiCalls(g.records()) };
  } finally {
    await g.disable();
  }
}

/** Blocked: AttestationError, nothing arrived, one `blocked` record. */
function assertBlocked({ outcome, received, records }: Attempt): void {
  assert.deepEqual(received, [], `${runtime}: the server received it`);
  assert.ok(isAttestationError(outcome), `${runtime}: got ${outcome}`);
  assert.equal(records[0]?.action, "blocked");
}

/** Sent as judged: no error, only the harmless path arrived. */
function assertHarmless({ outcome, received }: Attempt): void {
  assert.deepEqual(received, ["/harmless"], runtime);
  assert.equal(outcome, "sent", `${runtime}: got ${outcome}`);
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
    assertBlocked(await attempt("block", () => sendWithPath(make, `${CHAT}?path-set`)));
  });

  test(`report: ${name} to /harmless, then req.path = ${CHAT} → one record, it arrives`, async () => {
    const { outcome, received, records } = await attempt(
      "report",
      () => sendWithPath(make, `${CHAT}?path-set-report`),
    );
    assert.equal(outcome, "sent", `${runtime}: got ${outcome}`);
    assert.equal(records.length, 1, `${runtime}: records ${JSON.stringify(records)}`);
    assert.equal(records[0]!.action, "reported");
    assert.equal(records[0]!.target, "http POST 127.0.0.1/v1/chat/completions");
    assert.deepEqual(received, [`${CHAT}?path-set-report`]);
  });

  test(`block: ${name} to /harmless, then req.path = /other → sent as changed, no record`, async () => {
    let read = "";
    const { outcome, received, records } = await attempt("block", () =>
      sendWithPath((cb) => {
        const req = make(cb);
        const keys = Object.keys(req).includes("path");
        req.path = "/other";
        read = `${req.path} ${keys === Object.keys(req).includes("path")}`;
        return req;
      }, "/other?again"));
    assert.equal(outcome, "sent", `${runtime}: got ${outcome}`);
    assert.equal(read, "/other true", "the app reads what it set; its keys are unchanged");
    assert.deepEqual(records, []);
    assert.deepEqual(received, ["/other?again"]);
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
    send: () => sendWithPath(requestWithPath("/V1/CHAT/COMPLETIONS"), "/V1/CHAT/COMPLETIONS?cased"),
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
    const result = await attempt("block", send);
    assertBlocked(result);
    const operation = result.records[0]?.operation;
    assert.ok(operation === "chat" || operation === "generate_content", String(operation));
  });
}

/** An object whose `toString` gives `first` once, then `then` (a runtime stringifies it again). */
function flipping(first: string, then: string): { toString(): string } {
  let calls = 0;
  return { toString: () => (calls++ === 0 ? first : then) };
}

function requestWithPath(path: unknown): Make {
  return (cb) => {
    const { hostname, port } = new URL(base);
    return http.request({ hostname, port, method: "POST", path } as http.RequestOptions, cb);
  };
}

/**
 * A path that is no string: the runtimes stringify it (Node as it writes the request line), the
 * guard read it as none (`/`). `sendsWhatWasJudged`: it answers harmless first, so the harmless
 * path must be what arrives.
 */
const PATH_OBJECTS: Array<{ name: string; sendsWhatWasJudged?: boolean; send(): Promise<void> }> = [
  {
    name: "http.request with a path object whose toString is the endpoint",
    send: () => sendWithPath(requestWithPath({ toString: () => `${CHAT}?obj` }), `${CHAT}?obj`),
  },
  {
    name: "http.request with a String object path",
    send: () => sendWithPath(requestWithPath(new String(`${CHAT}?str`)), `${CHAT}?str`),
  },
  {
    name: "http.request with a path object answering harmless once, then the endpoint",
    sendsWhatWasJudged: true,
    send: () => sendWithPath(requestWithPath(flipping("/harmless", `${CHAT}?flip`))),
  },
  {
    name: "req.path set to an object whose toString is the endpoint",
    send: () =>
      sendWithPath(
        requestWithPath("/harmless"),
        { toString: () => `${CHAT}?set-obj` } as unknown as string,
      ),
  },
  {
    name: "req.path set to an object answering harmless once, then the endpoint",
    sendsWhatWasJudged: true,
    send: () =>
      sendWithPath(
        requestWithPath("/elsewhere"),
        flipping("/harmless", `${CHAT}?set-flip`) as unknown as string,
      ),
  },
];

for (const attack of PATH_OBJECTS) {
  const expected = attack.sendsWhatWasJudged
    ? "the harmless path is what arrives"
    : "AttestationError, nothing arrives";
  test(`block: ${attack.name} → ${expected}`, async () => {
    const result = await attempt("block", attack.send);
    if (attack.sendsWhatWasJudged) assertHarmless(result);
    else assertBlocked(result);
  });
}

/** Sends one POST stream with `headers` on a new h2c session to the loopback server. */
async function h2Send(headers: unknown): Promise<void> {
  const http2 = await import("node:http2");
  const session = http2.connect(servers.http2);
  session.on("error", () => {});
  try {
    await new Promise<void>((resolve, reject) => {
      const stream = session.request(headers as Record<string, string>);
      stream.on("error", reject);
      stream.resume();
      stream.on("end", () => resolve());
      stream.end("{}");
    });
  } finally {
    session.close();
  }
}

/**
 * Stream headers the runtime reads otherwise than the guard did: `:path` as an object or a
 * one-value array (stringified), raw pairs (`[name, value, …]`, an upper-case name lowercased), a
 * getter that answers harmless once. All under one guard: `http2.connect` is read from the
 * namespace `import("node:http2")` gives, a named binding, which Deno and Bun bind once (README,
 * note 3): a guard enabled again after one was disabled no longer sees these sessions there.
 */
const H2_HEADERS: Array<{ name: string; sendsWhatWasJudged?: boolean; headers(): unknown }> = [
  {
    name: ":path an object whose toString is the endpoint",
    headers: () => ({ ":method": "POST", ":path": { toString: () => `${CHAT}?h2-obj` } }),
  },
  {
    name: ":path a one-value array",
    headers: () => ({ ":method": "POST", ":path": [`${CHAT}?h2-array`] }),
  },
  {
    name: "raw header pairs",
    headers: () => [":method", "POST", ":path", `${CHAT}?h2-raw`],
  },
  {
    name: "raw header pairs, the name upper-case",
    headers: () => [":method", "POST", ":PATH", `${CHAT}?h2-raw-upper`],
  },
  {
    name: ":path a getter answering harmless once, then the endpoint",
    sendsWhatWasJudged: true,
    headers: () => {
      let calls = 0;
      return {
        ":method": "POST",
        get ":path"() {
          return calls++ === 0 ? "/harmless" : `${CHAT}?h2-getter`;
        },
      };
    },
  },
];

test("block: http2 stream headers the runtime reads otherwise → blocked, or the judged path arrives", async () => {
  await barrier(servers);
  const g = enableGuard({ mode: "block", sinks: ["memory"], discover: false });
  try {
    for (const { name, sendsWhatWasJudged, headers } of H2_HEADERS) {
      const before = servers.seen.length;
      let outcome: unknown = "sent";
      try {
        await h2Send(headers());
      } catch (error) {
        outcome = error;
      }
      await barrier(servers);
      const received = servers.seen.slice(before).map((s) => s.path)
        .filter((path) => !path.startsWith("/barrier/"));
      if (sendsWhatWasJudged) {
        assert.deepEqual(received, ["/harmless"], `${runtime}, ${name}`);
        assert.equal(outcome, "sent", `${runtime}, ${name}: got ${outcome}`);
      } else if (runtime === "bun" && name.includes("upper-case")) {
        // Bun refuses the upper-case pseudo-header itself.
        assert.deepEqual(received, [], `${runtime}, ${name}`);
      } else {
        assert.deepEqual(received, [], `${runtime}, ${name}: the server received it`);
        assert.ok(isAttestationError(outcome), `${runtime}, ${name}: got ${outcome}`);
      }
    }
  } finally {
    await g.disable();
  }
});
