// @runtimes deno bun node
/**
 * The URL judged is the URL sent: every odd way of writing an AI endpoint that the runtime still
 * sends there (WHATWG parsing for fetch, WebSocket and `http.request` strings; DNS-style host
 * forms for `http.request` options), through each carrier, against the real loopback servers.
 * Report mode: one record and the request arrives; block mode: AttestationError and the servers
 * receive nothing.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import axios from "axios";
import { WebSocket as WsClient } from "ws";
import { type AttestationError, enableGuard } from "../mod.ts";
import type { ProviderRule } from "../src/detect/providers.ts";
import { type AiServers, startAiServers } from "./support/ai_servers_client.ts";
import { aiCalls } from "./support/records.ts";
import { installNetwork } from "./support/fake_network.ts";
import { barrier, isAttestationError } from "./support/block_checks.ts";

const runtime = (globalThis as { Deno?: unknown }).Deno
  ? "deno"
  : (globalThis as { Bun?: unknown }).Bun
  ? "bun"
  : "node";

let servers: AiServers;
let port = "";
before(async () => {
  servers = await startAiServers();
  port = new URL(servers.http1).port;
});
after(() => servers.close());

const CHAT = "/v1/chat/completions";

/** A way of writing the chat endpoint (`scheme` `ws` for WebSockets), and the path the server sees. */
interface Form {
  name: string;
  url(scheme: "http" | "ws", port: string): string;
  /** The path the loopback server receives. */
  path: string;
  /** A `providers` rule the form must be judged against (else the built-in paths). */
  rule?: ProviderRule;
  provider?: string;
}

const FORMS: Form[] = [
  {
    name: "a tab inside the path",
    url: (s, p) => `${s}://127.0.0.1:${p}/v1/chat/comp\tletions`,
    path: CHAT,
  },
  {
    name: "a newline inside the host",
    url: (s, p) => `${s}://127.0.\n0.1:${p}${CHAT}`,
    path: CHAT,
  },
  { name: "a leading space", url: (s, p) => ` ${s}://127.0.0.1:${p}${CHAT}`, path: CHAT },
  {
    name: "a tab inside the scheme",
    url: (s, p) => `${s.slice(0, 1)}\t${s.slice(1)}://127.0.0.1:${p}${CHAT}`,
    path: CHAT,
  },
  { name: "`http:host` without slashes", url: (s, p) => `${s}:127.0.0.1:${p}${CHAT}`, path: CHAT },
  {
    name: "backslashes for slashes",
    url: (s, p) => `${s}:\\\\127.0.0.1:${p}\\v1\\chat\\completions`,
    path: CHAT,
  },
  { name: "the host 127.1", url: (s, p) => `${s}://127.1:${p}${CHAT}`, path: CHAT },
  { name: "the host 0x7f000001", url: (s, p) => `${s}://0x7f000001:${p}${CHAT}`, path: CHAT },
  { name: "the octal host 0177.0.0.1", url: (s, p) => `${s}://0177.0.0.1:${p}${CHAT}`, path: CHAT },
  { name: "a trailing slash", url: (s, p) => `${s}://127.0.0.1:${p}${CHAT}/`, path: `${CHAT}/` },
  {
    name: "a dot segment",
    url: (s, p) => `${s}://127.0.0.1:${p}/v1/models/../chat/completions`,
    path: CHAT,
  },
  // Escapes WHATWG's parse keeps in the path; the servers behind AI apps route on the decoded path.
  {
    name: "a percent-escaped letter in the path",
    url: (s, p) =>
      s === "ws"
        ? `${s}://127.0.0.1:${p}/v1/realtim%65`
        : `${s}://127.0.0.1:${p}/v1/chat/completion%73`,
    path: "/v1/chat/completion%73",
  },
  {
    name: "a percent-escaped slash in the path",
    url: (s, p) =>
      s === "ws"
        ? `${s}://127.0.0.1:${p}/v1%2Frealtime`
        : `${s}://127.0.0.1:${p}/v1/chat%2Fcompletions`,
    path: "/v1/chat%2Fcompletions",
  },
  {
    name: "a trailing dot on a host named by a providers rule",
    url: (s, p) => `${s}://127.0.0.1.:${p}/v1/models`,
    path: "/v1/models",
    rule: { provider: "acme_llm", host: "127.0.0.1", path: "/v1/models" },
    provider: "acme_llm",
  },
];

function httpSend(target: string | http.RequestOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = typeof target === "string"
      ? http.request(target, { method: "POST" }, (res) => {
        res.resume();
        res.on("end", resolve);
      })
      : http.request({ ...target, method: "POST" }, (res) => {
        res.resume();
        res.on("end", resolve);
      });
    req.on("error", reject);
    req.end("{}");
  });
}

function wsOpen(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      socket.close();
      resolve();
    });
    socket.addEventListener("error", () => reject(new Error("websocket error")));
  });
}

function h2Send(origin: string, path: string): Promise<void> {
  const session = http2.connect(origin);
  session.on("error", () => {});
  return new Promise<void>((resolve, reject) => {
    try {
      const stream = session.request({ ":method": "POST", ":path": path });
      stream.resume();
      stream.on("end", resolve);
      stream.on("error", reject);
      stream.end("{}");
    } catch (error) {
      reject(error);
    }
  }).finally(() => session.close());
}

interface Carrier {
  name: string;
  /** Sends one request written in `form`; `null` when the form has no meaning for the carrier. */
  send(form: Form): (() => Promise<void>) | null;
  /** The protocol the servers log for it. */
  seenAs?: string;
}

/** Host forms that resolve as names go to DNS from `http.request` options: inet_aton reads them. */
const OPTION_HOSTS: Record<string, string> = {
  "the host 127.1": "127.1",
  "the host 0x7f000001": "0x7f000001",
  "the octal host 0177.0.0.1": "0177.0.0.1",
};

const CARRIERS: Carrier[] = [
  {
    name: "fetch",
    send: (form) => async () => {
      await (await fetch(form.url("http", port), { method: "POST", body: "{}" })).text();
    },
  },
  { name: "http.request(string)", send: (form) => () => httpSend(form.url("http", port)) },
  {
    name: "http.request(options)",
    send: (form) => {
      const hostname = OPTION_HOSTS[form.name];
      if (hostname !== undefined) return () => httpSend({ hostname, port, path: form.path });
      if (form.name === "a trailing slash" || form.name.includes("percent")) {
        return () => httpSend({ hostname: "127.0.0.1", port, path: form.path });
      }
      return null; // Node sends an options path as it is, and rejects one with a tab
    },
  },
  {
    name: "WebSocket",
    seenAs: "websocket",
    send: (form) =>
      form.rule ? null : () => wsOpen(form.url("ws", port).replace(CHAT, "/v1/realtime")),
  },
  {
    name: "http2.connect(string)",
    seenAs: "h2c",
    send: (form) => {
      if (form.rule || form.name.includes("path") || form.name.includes("segment")) return null;
      const h2Port = new URL(servers.http2).port;
      const origin = form.url("http", h2Port).replace(/[/\\]v1.*$/, "");
      return () => h2Send(origin, form.name === "a trailing slash" ? `${CHAT}/` : CHAT);
    },
  },
];

function guard(mode: "report" | "block", form: Form) {
  return enableGuard({
    mode,
    sinks: ["memory"],
    discover: false,
    ...(form.rule ? { providers: [form.rule] } : {}),
  });
}

for (const carrier of CARRIERS) {
  for (const form of FORMS) {
    test(`${carrier.name}, ${form.name}: report → one record, the request arrives`, async (t) => {
      const send = carrier.send(form);
      if (send === null) return t.skip(`${form.name} has no meaning for ${carrier.name}`);
      const g = guard("report", form);
      try {
        const before = servers.seen.length;
        await send();
        const records = aiCalls(g.records());
        assert.equal(records.length, 1, `${runtime}: records ${JSON.stringify(records)}`);
        assert.equal(records[0]!.provider, form.provider ?? "openai_compatible");
        assert.equal(records[0]!.server, "127.0.0.1");
        assert.equal(records[0]!.action, "reported");
        await barrier(servers);
        const arrived = servers.seen.slice(before).filter((s) => !s.path.startsWith("/barrier/"));
        assert.equal(arrived.length, 1, JSON.stringify(arrived));
        if (carrier.seenAs) assert.equal(arrived[0]!.protocol, carrier.seenAs);
      } finally {
        await g.disable();
      }
    });

    test(`${carrier.name}, ${form.name}: block → AttestationError, nothing arrives`, async (t) => {
      const send = carrier.send(form);
      if (send === null) return t.skip(`${form.name} has no meaning for ${carrier.name}`);
      await barrier(servers);
      const g = guard("block", form);
      try {
        const before = servers.seen.length;
        await assert.rejects(send(), (error) => {
          assert.ok(isAttestationError(error), `${runtime}: got ${error}`);
          return true;
        });
        await barrier(servers);
        const received = servers.seen.slice(before).filter((s) => !s.path.startsWith("/barrier/"));
        assert.deepEqual(received, []);
        assert.equal(aiCalls(g.records())[0]?.action, "blocked");
      } finally {
        await g.disable();
      }
    });
  }
}

const HOP = "/redirect?to=/v1/chat/completions";

/**
 * Redirects followed by the client: each carrier re-issues the request, or the runtime does. Deno
 * and Bun follow fetch's redirects out of sight: the hop is recorded when the response arrives,
 * too late to block (README: what the guard can see).
 */
const REDIRECTS: Array<{ name: string; lateOn?: string[]; send(): Promise<unknown> }> = [
  {
    name: "fetch following a 307",
    lateOn: ["deno", "bun"],
    send: async () => {
      await (await fetch(`${servers.http1}${HOP}`, { method: "POST", body: "{}" })).text();
    },
  },
  {
    name: "axios (follow-redirects) following a 307",
    send: () => axios.post(`${servers.http1}${HOP}`, {}),
  },
];

for (const r of REDIRECTS) {
  const late = r.lateOn?.includes(runtime) ?? false;

  test(`${r.name} to an AI path: report → one record for the hop`, async () => {
    const g = enableGuard({ mode: "report", sinks: ["memory"], discover: false });
    try {
      const before = servers.seen.length;
      await r.send();
      const records = aiCalls(g.records());
      assert.equal(records.length, 1, JSON.stringify(records));
      assert.match(records[0]!.target, /127\.0\.0\.1\/v1\/chat\/completions$/);
      await barrier(servers);
      assert.deepEqual(
        servers.seen.slice(before).map((s) => s.path).filter((p) => !p.startsWith("/barrier/")),
        [HOP, CHAT],
      );
    } finally {
      await g.disable();
    }
  });

  const outcome = late ? "recorded when it arrives, unblocked" : "refused unsent";
  test(`${r.name} to an AI path: block → the hop is ${outcome}`, async () => {
    await barrier(servers);
    const g = enableGuard({ mode: "block", sinks: ["memory"], discover: false });
    try {
      const before = servers.seen.length;
      if (late) await r.send();
      else await assert.rejects(r.send());
      await barrier(servers);
      assert.deepEqual(
        servers.seen.slice(before).map((s) => s.path).filter((p) => !p.startsWith("/barrier/")),
        late ? [HOP, CHAT] : [HOP],
      );
      const records = aiCalls(g.records());
      assert.equal(records.length, 1);
      assert.equal(records[0]?.action, late ? "reported" : "blocked");
    } finally {
      await g.disable();
    }
  });
}

/**
 * A URL object of another realm or a polyfill (not `instanceof URL`): Node's `http.request` takes
 * any object with `href` and `protocol` (and no `auth` or `path`) for a URL and sends to its
 * `pathname` + `search`. Deno and Bun read it as options, of which it has no own property: they
 * connect to `localhost:80` (refused here), or throw when options follow it. The guard reads it as
 * the runtime does: an AI call on Node, none on Deno and Bun.
 */
class ForeignUrl {
  readonly #url: URL;
  constructor(text: string) {
    this.#url = new URL(text);
  }
  get href(): string {
    return this.#url.href;
  }
  get protocol(): string {
    return this.#url.protocol;
  }
  get hostname(): string {
    return this.#url.hostname;
  }
  get port(): string {
    return this.#url.port;
  }
  get pathname(): string {
    return this.#url.pathname;
  }
  get search(): string {
    return this.#url.search;
  }
}

/** Sends to a URL-like object; resolves `"sent"` or the error the call ended with. */
function foreignSend(url: ForeignUrl, options?: http.RequestOptions): Promise<unknown> {
  return new Promise<void>((resolve, reject) => {
    const done = (res: http.IncomingMessage) => {
      res.resume();
      res.on("end", resolve);
    };
    // deno-lint-ignore no-explicit-any
    const target = url as any;
    const req = options ? http.request(target, options, done) : http.request(target, done);
    req.on("error", reject);
    req.end("{}");
  }).then(() => "sent", (error) => error);
}

const readAsUrl = runtime === "node";
for (const withOptions of [false, true]) {
  const how = withOptions ? ", with options" : "";
  test(`http.request(URL-like object${how}): report → judged where ${runtime} sends it`, async () => {
    const g = enableGuard({ mode: "report", sinks: ["memory"], discover: false });
    try {
      const before = servers.seen.length;
      const outcome = await foreignSend(
        new ForeignUrl(`${servers.http1}${CHAT}?stream=1`),
        withOptions ? { method: "POST" } : undefined,
      );
      if (readAsUrl) assert.equal(outcome, "sent");
      else assert.ok(outcome instanceof Error && !isAttestationError(outcome), String(outcome));
      await barrier(servers);
      const arrived = servers.seen.slice(before).map((s) => s.path)
        .filter((p) => !p.startsWith("/barrier/"));
      assert.deepEqual(arrived, readAsUrl ? [`${CHAT}?stream=1`] : []);
      const records = aiCalls(g.records());
      assert.equal(records.length, readAsUrl ? 1 : 0, JSON.stringify(records));
      if (readAsUrl) assert.equal(records[0]!.operation, "chat");
    } finally {
      await g.disable();
    }
  });

  test(
    `http.request(URL-like object${how}): block → ${
      readAsUrl ? "refused unsent" : "not AI"
    } on ${runtime}`,
    async () => {
      await barrier(servers);
      const g = enableGuard({ mode: "block", sinks: ["memory"], discover: false });
      try {
        const before = servers.seen.length;
        const outcome = await foreignSend(
          new ForeignUrl(`${servers.http1}${CHAT}`),
          withOptions ? { method: "POST" } : undefined,
        );
        assert.equal(isAttestationError(outcome), readAsUrl, String(outcome));
        await barrier(servers);
        const arrived = servers.seen.slice(before).map((s) => s.path)
          .filter((p) => !p.startsWith("/barrier/"));
        assert.deepEqual(arrived, []);
        assert.equal(aiCalls(g.records()).length, readAsUrl ? 1 : 0);
      } finally {
        await g.disable();
      }
    },
  );
}

/**
 * Web-chat backends through the fetch layer: the host and the whole path decide, whatever the
 * spelling; the same hosts' other requests pass unrecorded. The fake network stands in for the
 * sites (no request may leave the machine) and shows what the guard let through.
 */
const WEB_CHAT_CALLS: Array<[url: string, provider: string, target: string]> = [
  [
    "https://chatgpt.com/backend-api/conversation?ref=secret-query",
    "openai.chatgpt_web",
    "fetch POST chatgpt.com/backend-api/conversation",
  ],
  [
    "https://CLAUDE.AI./api/organizations/o1/chat_conversations/c1/completion/",
    "anthropic.claude_web",
    "fetch POST claude.ai/api/organizations/o1/chat_conversations/c1/completion/",
  ],
  [
    "https://gemini.google.com/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate?bl=b&rt=c",
    "google.gemini_web",
    "fetch POST gemini.google.com/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate",
  ],
  [
    "https://kimi.moonshot.cn/api/chat/cq1/comple\ttion/stream",
    "moonshot.kimi_web",
    "fetch POST kimi.moonshot.cn/api/chat/cq1/completion/stream",
  ],
  [
    "https://chatgpt.com/backend-api/codex/responses",
    "openai.chatgpt_web",
    "fetch POST chatgpt.com/backend-api/codex/responses",
  ],
  // An API that shares its host (GitHub's MCP server is on it too) is matched the same way.
  [
    "https://api.individual.githubcopilot.com/chat/completions",
    "github.copilot",
    "fetch POST api.individual.githubcopilot.com/chat/completions",
  ],
];
const WEB_CHAT_PAGES = [
  "https://chatgpt.com/api/auth/session",
  "https://chatgpt.com/backend-api/conversations?offset=0&limit=20",
  "https://claude.ai/api/organizations/o1/chat_conversations",
  "https://kimi.moonshot.cn/api/chat",
  "https://gemini.google.com/app",
  "https://api.githubcopilot.com/mcp/",
];
const PROMPT_BODY = JSON.stringify({ messages: [{ content: "secret prompt" }] });

test("fetch, web-chat backends: report → one record per prompt-carrying call, pages unrecorded", async () => {
  const net = installNetwork();
  const g = enableGuard({ mode: "report", sinks: ["memory"], discover: false });
  try {
    for (const [url] of WEB_CHAT_CALLS) {
      const response = await fetch(url, { method: "POST", body: PROMPT_BODY });
      // The app reads the site's answer (the fake network answers a chat-completions path as an
      // OpenAI-compatible server would, the others with `{ ok: true }`).
      const answer = await response.json();
      assert.ok(answer.ok === true || answer.id === "chatcmpl-net", JSON.stringify(answer));
    }
    for (const url of WEB_CHAT_PAGES) await (await fetch(url)).text();
    const records = aiCalls(g.records());
    assert.deepEqual(
      records.map((r) => [r.provider, r.operation, r.target, r.detector, r.action]),
      WEB_CHAT_CALLS.map(([, provider, target]) => [provider, "chat", target, "fetch", "reported"]),
    );
    assert.equal(records[0]!.server, "chatgpt.com");
    assert.equal(records[0]!.port, 443);
    assert.doesNotMatch(JSON.stringify(g.records()), /secret/, "no query string, no body");
    assert.equal(net.seen.length, WEB_CHAT_CALLS.length + WEB_CHAT_PAGES.length);
  } finally {
    await g.disable();
    net.restore();
  }
});

test("fetch, web-chat backends: block → AttestationError before any byte, pages still go", async () => {
  const net = installNetwork();
  const g = enableGuard({ mode: "block", sinks: ["memory"], discover: false });
  try {
    for (const [url, provider] of WEB_CHAT_CALLS) {
      await assert.rejects(fetch(url, { method: "POST", body: PROMPT_BODY }), (error) => {
        assert.ok(isAttestationError(error), `${runtime}: got ${error}`);
        assert.equal((error as AttestationError).provider, provider);
        return true;
      });
    }
    for (const url of WEB_CHAT_PAGES) await (await fetch(url)).text();
    assert.deepEqual(net.seen, WEB_CHAT_PAGES.map((url) => `GET ${url}`));
    assert.deepEqual(
      aiCalls(g.records()).map((r) => r.action),
      WEB_CHAT_CALLS.map(() => "blocked"),
    );
  } finally {
    await g.disable();
    net.restore();
  }
});

/**
 * A web-chat hub over a real loopback connection: the `ws` package on Node goes through node:http,
 * whose `lookup` option sends sydney.bing.com to the loopback server without asking DNS. (Deno's and
 * Bun's clients may resolve the name themselves: there the hub is covered in block mode only, in
 * guard_websocket.test.ts, where nothing connects.)
 */
const loopbackLookup = (looked: string[]) =>
(
  host: string,
  options: { all?: boolean },
  done: (error: Error | null, address: unknown, family?: number) => void,
) => {
  looked.push(host);
  if (options?.all) done(null, [{ address: "127.0.0.1", family: 4 }]);
  else done(null, "127.0.0.1", 4);
};

function openHub(looked: string[]): Promise<string> {
  const socket = new WsClient(
    `ws://sydney.bing.com:${port}/sydney/ChatHub?sec_access_token=secret-token`,
    { lookup: loopbackLookup(looked) } as ConstructorParameters<typeof WsClient>[1],
  );
  return new Promise((resolve, reject) => {
    socket.on("open", () => socket.send("hello"));
    socket.on("message", (data) => {
      socket.close();
      resolve(String(data));
    });
    socket.on("error", reject);
  });
}

test("ws, web-chat hub on loopback: report → one chat record, the app's socket works", async (t) => {
  if (runtime !== "node") return t.skip("only Node's node:http is known to take `lookup`");
  const g = enableGuard({ mode: "report", sinks: ["memory"], discover: false });
  try {
    const before = servers.seen.length;
    const looked: string[] = [];
    assert.equal(await openHub(looked), "hello", "the server's echo reaches the app");
    assert.deepEqual(looked, ["sydney.bing.com"]);
    const arrived = servers.seen.slice(before);
    assert.deepEqual(arrived.map((s) => [s.protocol, s.path.split("?")[0]]), [
      ["websocket", "/sydney/ChatHub"],
    ]);
    const records = aiCalls(g.records());
    assert.deepEqual(records.map((r) => [r.provider, r.operation, r.target, r.action]), [
      ["microsoft.copilot_web", "chat", "websocket sydney.bing.com/sydney/ChatHub", "reported"],
    ]);
    assert.doesNotMatch(JSON.stringify(records), /secret-token/);
  } finally {
    await g.disable();
  }
});

test("ws, web-chat hub on loopback: block → AttestationError, nothing connects", async (t) => {
  if (runtime !== "node") return t.skip("only Node's node:http is known to take `lookup`");
  await barrier(servers);
  const g = enableGuard({ mode: "block", sinks: ["memory"], discover: false });
  try {
    const before = servers.seen.length;
    const looked: string[] = [];
    // Thrown out of the client's constructor, as the upgrade request is made.
    assert.throws(() => openHub(looked), (error) => {
      assert.ok(isAttestationError(error), `got ${error}`);
      return true;
    });
    await barrier(servers);
    const received = servers.seen.slice(before).filter((s) => !s.path.startsWith("/barrier/"));
    assert.deepEqual(received, []);
    assert.deepEqual(looked, [], "not even a lookup");
    assert.equal(aiCalls(g.records())[0]?.action, "blocked");
  } finally {
    await g.disable();
  }
});
