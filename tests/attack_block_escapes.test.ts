// @runtimes deno bun node
/**
 * Attacks on block mode (issue 23): inputs the runtime turns into an AI URL that the guard read
 * differently — an object fetch stringifies, a `toString`/`href` that answers differently the
 * second time, a Request subclass whose `url` getter lies, a request path in a forward proxy's
 * absolute form, a CONNECT tunnel to a provider through a proxy. Each must throw AttestationError and reach no server, against the real loopback
 * servers.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { enableGuard } from "../mod.ts";
import { type AiServers, startAiServers } from "./support/ai_servers_client.ts";
import { barrier, isAttestationError } from "./support/block_checks.ts";

const runtime = (globalThis as { Deno?: unknown }).Deno
  ? "deno"
  : (globalThis as { Bun?: unknown }).Bun
  ? "bun"
  : "node";

let servers: AiServers;
let base = "";
before(async () => {
  servers = await startAiServers();
  base = servers.http1;
});
after(() => servers.close());

const CHAT = "/v1/chat/completions";

/** An object whose `toString` gives `first` once, then `then` (a runtime stringifies it again). */
function flipping(first: string, then: string): { toString(): string } {
  let calls = 0;
  return { toString: () => (calls++ === 0 ? first : then) };
}

const post = { method: "POST", body: "{}" };

/**
 * `sendsWhatWasJudged`: the input answers harmless first, so the guard judges (and sends) the
 * harmless URL: the request must arrive there, never at the endpoint.
 */
const ATTACKS: Array<{ name: string; sendsWhatWasJudged?: boolean; send(): Promise<unknown> }> = [
  {
    name: "fetch of a plain object whose toString is the endpoint",
    send: () => fetch({ toString: () => `${base}${CHAT}?tostring` } as unknown as string, post),
  },
  {
    name: "fetch of a String object",
    send: () => fetch(new String(`${base}${CHAT}?string-object`) as unknown as string, post),
  },
  {
    name: "fetch of an object with a harmless url field that fetch ignores",
    send: () =>
      fetch(
        {
          url: `${base}/harmless`,
          toString: () => `${base}${CHAT}?url-field`,
        } as unknown as string,
        post,
      ),
  },
  {
    name: "fetch of an object whose toString answers harmless once, then the endpoint",
    sendsWhatWasJudged: true,
    send: () => fetch(flipping(`${base}/harmless`, `${base}${CHAT}?flip`) as string, post),
  },
  {
    name: "fetch of a URL subclass whose href answers harmless once, then the endpoint",
    sendsWhatWasJudged: true,
    send: () => {
      let calls = 0;
      class Flipping extends URL {
        override get href(): string {
          return calls++ === 0 ? `${base}/harmless` : `${base}${CHAT}?href-flip`;
        }
        override toString(): string {
          return this.href;
        }
      }
      return fetch(new Flipping(`${base}/harmless`), post);
    },
  },
  {
    name: "fetch of a Request subclass whose url getter hides the endpoint it was built for",
    // Bun sends what the getter says; Node and Deno the URL it was built with.
    sendsWhatWasJudged: runtime === "bun",
    send: () => {
      class Hiding extends Request {
        override get url(): string {
          return `${base}/harmless`;
        }
      }
      return fetch(new Hiding(`${base}${CHAT}?hidden`, post));
    },
  },
  {
    name: "fetch of a Request subclass whose url getter names the endpoint",
    sendsWhatWasJudged: runtime !== "bun",
    send: () => {
      class Naming extends Request {
        override get url(): string {
          return `${base}${CHAT}?named`;
        }
      }
      return fetch(new Naming(`${base}/harmless`, post));
    },
  },
  {
    name: "http.request with options whose path getter answers harmless once, then the endpoint",
    sendsWhatWasJudged: true,
    send: () =>
      new Promise<void>((resolve, reject) => {
        const { hostname, port } = new URL(base);
        let calls = 0;
        const options = {
          hostname,
          port,
          method: "POST",
          get path() {
            return calls++ === 0 ? "/harmless" : `${CHAT}?path-getter`;
          },
        };
        const req = http.request(options, (res) => {
          res.resume();
          res.on("end", resolve);
        });
        req.on("error", reject);
        req.end("{}");
      }),
  },
  {
    name: "http.request with a path in a forward proxy's absolute form",
    send: () =>
      new Promise<void>((resolve, reject) => {
        const { hostname, port } = new URL(base);
        const req = http.request(
          { hostname, port, method: "POST", path: `http://api.openai.com${CHAT}?proxy-form` },
          (res) => {
            res.resume();
            res.on("end", resolve);
          },
        );
        req.on("error", reject);
        req.end("{}");
      }),
  },
  {
    name: "http.request CONNECT api.openai.com:443 to a forward proxy (a tunnel)",
    send: () =>
      new Promise<void>((resolve, reject) => {
        const { hostname, port } = new URL(base);
        const req = http.request({ hostname, port, method: "CONNECT", path: "api.openai.com:443" });
        req.on("connect", (_res, socket) => {
          socket.destroy();
          resolve();
        });
        req.on("error", reject);
        req.end();
      }),
  },
];

for (const attack of ATTACKS) {
  const expected = attack.sendsWhatWasJudged
    ? "the harmless URL is what arrives"
    : "AttestationError, nothing arrives";
  test(`block: ${attack.name} → ${expected}`, async () => {
    await barrier(servers);
    const g = enableGuard({ mode: "block", sinks: ["memory"], discover: false });
    try {
      const before = servers.seen.length;
      let outcome: unknown = "sent";
      try {
        const response = await attack.send();
        if (response instanceof Response) await response.text();
      } catch (error) {
        outcome = error;
      }
      await barrier(servers);
      const received = servers.seen.slice(before).filter((s) => !s.path.startsWith("/barrier/"));
      if (attack.sendsWhatWasJudged) {
        assert.deepEqual(received.map((s) => s.path), ["/harmless"], runtime);
        assert.equal(outcome, "sent", `${runtime}: got ${outcome}`);
      } else {
        assert.deepEqual(received, [], `${runtime}: the server received it`);
        assert.ok(isAttestationError(outcome), `${runtime}: got ${outcome}`);
      }
    } finally {
      await g.disable();
    }
  });
}
