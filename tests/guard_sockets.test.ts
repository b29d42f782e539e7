// @runtimes deno bun node
/**
 * Carriers below HTTP: a TCP or TLS connection to a provider host (or one a `providers` rule
 * names) is an AI call even though the guard cannot read it — `net.connect`, `tls.connect`,
 * `Deno.connect`/`Deno.connectTls`, `Bun.connect` — and Deno's `EventSource` is seen like fetch.
 * Report → one record and the connection is made; block → AttestationError and the server sees
 * no connection. A request an upper layer decided is still one record, not one more per socket.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import http2 from "node:http2";
import { WebSocket as WsClient } from "ws";
import axios from "axios";
import * as undici from "undici";
import { AttestationError, enableGuard, type GuardRecord } from "../mod.ts";
import type { ProviderRule } from "../src/detect/providers.ts";
import { type AiServers, startAiServers } from "./support/ai_servers_client.ts";
import { aiCalls } from "./support/records.ts";

const runtime = (globalThis as { Deno?: unknown }).Deno
  ? "deno"
  : (globalThis as { Bun?: unknown }).Bun
  ? "bun"
  : "node";

/** A loopback TCP server that counts the connections it accepts. */
let tcp: net.Server;
let tcpPort = 0;
let accepted = 0;
const open = new Set<net.Socket>();
let servers: AiServers;

before(async () => {
  tcp = net.createServer((socket) => {
    accepted++;
    open.add(socket);
    socket.on("close", () => open.delete(socket));
    socket.on("error", () => {});
    socket.end();
  });
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
  tcpPort = (tcp.address() as net.AddressInfo).port;
  servers = await startAiServers();
});
after(async () => {
  for (const socket of open) socket.destroy();
  await new Promise((resolve) => tcp.close(resolve));
  await servers.close();
});

/** Waits until the server has accepted `n` connections since `from` (or a short while passed). */
async function acceptedSince(from: number, n: number): Promise<number> {
  for (let i = 0; i < 40 && accepted - from < n; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50)); // and nothing more arrives
  return accepted - from;
}

/** Opens a connection; resolves once it is closed or failed (never rejects after opening). */
function settled(socket: { on(e: string, f: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => {
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
  });
}

interface Carrier {
  name: string;
  runtimes?: string[];
  /** The rule that makes the loopback server an AI endpoint (none: the SNI names a provider). */
  rule?: () => ProviderRule;
  open(): Promise<void>;
  expect: Partial<GuardRecord>;
}

const rule = (): ProviderRule => ({ provider: "acme_llm", host: `127.0.0.1:${tcpPort}` });

const CARRIERS: Carrier[] = [
  {
    name: "net.connect(port, host)",
    rule,
    open: () => settled(net.connect(tcpPort, "127.0.0.1")),
    expect: { provider: "acme_llm", detector: "socket", server: "127.0.0.1" },
  },
  {
    name: "net.createConnection({ host, port })",
    rule,
    open: () => settled(net.createConnection({ host: "127.0.0.1", port: tcpPort })),
    expect: { provider: "acme_llm", detector: "socket" },
  },
  {
    name: "tls.connect to a provider host (SNI api.openai.com)",
    // Bun's tls.connect sends no SNI to an IP address: the name is the app's only.
    open: () =>
      settled(
        tls.connect({ host: "127.0.0.1", port: tcpPort, servername: "api.openai.com" }).on(
          "error",
          () => {},
        ),
      ),
    expect: { provider: "openai", detector: "socket", server: "api.openai.com" },
  },
  {
    name: "Deno.connect",
    runtimes: ["deno"],
    rule,
    open: async () => {
      const deno = (globalThis as unknown as {
        Deno: { connect(o: object): Promise<{ close(): void }> };
      }).Deno;
      (await deno.connect({ hostname: "127.0.0.1", port: tcpPort })).close();
    },
    expect: { provider: "acme_llm", detector: "socket", target: "Deno.connect 127.0.0.1:" },
  },
  {
    name: "Deno.connectTls",
    runtimes: ["deno"],
    rule,
    open: async () => {
      const deno = (globalThis as unknown as {
        Deno: { connectTls(o: object): Promise<{ handshake(): Promise<void>; close(): void }> };
      }).Deno;
      const conn = await deno.connectTls({ hostname: "127.0.0.1", port: tcpPort });
      await conn.handshake().catch(() => {}); // the loopback server speaks no TLS
      try {
        conn.close();
      } catch {
        // already closed by the failed handshake
      }
    },
    expect: { provider: "acme_llm", detector: "socket", target: "Deno.connectTls 127.0.0.1:" },
  },
  {
    name: "Bun.connect",
    runtimes: ["bun"],
    rule,
    open: async () => {
      const bun = (globalThis as unknown as {
        Bun: { connect(o: object): Promise<{ end(): void }> };
      }).Bun;
      const socket = await bun.connect({
        hostname: "127.0.0.1",
        port: tcpPort,
        socket: { data() {}, error() {} },
      });
      socket.end();
    },
    expect: { provider: "acme_llm", detector: "socket", target: "Bun.connect 127.0.0.1:" },
  },
];

function guard(mode: "report" | "block", c: Carrier) {
  return enableGuard({
    mode,
    sinks: ["memory"],
    discover: false,
    ...(c.rule ? { providers: [c.rule()] } : {}),
  });
}

for (const c of CARRIERS) {
  const skip = c.runtimes && !c.runtimes.includes(runtime) && `${c.name}: not on ${runtime}`;

  test(`${c.name}: report → one record, the connection is made`, { skip }, async () => {
    const g = guard("report", c);
    try {
      const from = accepted;
      await c.open();
      const records = aiCalls(g.records());
      assert.equal(records.length, 1, JSON.stringify(records));
      for (const [key, value] of Object.entries(c.expect)) {
        const got = records[0]![key as keyof GuardRecord];
        if (key === "target") assert.ok(String(got).startsWith(String(value)), String(got));
        else assert.equal(got, value, key);
      }
      assert.equal(records[0]!.port, tcpPort);
      assert.equal(await acceptedSince(from, 1), 1);
    } finally {
      await g.disable();
    }
  });

  test(`${c.name}: block → AttestationError, no connection`, { skip }, async () => {
    const g = guard("block", c);
    try {
      const from = accepted;
      await assert.rejects(async () => await c.open(), AttestationError);
      assert.equal(await acceptedSince(from, 1), 0);
      assert.equal(aiCalls(g.records())[0]?.action, "blocked");
    } finally {
      await g.disable();
    }
  });
}

test("disable() puts every connect function back exactly, also Bun's assigned one", async () => {
  const g2 = globalThis as { Deno?: Record<string, unknown>; Bun?: Record<string, unknown> };
  const owners: Array<[Record<string, unknown>, string]> = [
    [net as unknown as Record<string, unknown>, "connect"],
    [tls as unknown as Record<string, unknown>, "connect"],
  ];
  if (g2.Deno) owners.push([g2.Deno, "connect"], [g2.Deno, "connectTls"]);
  if (g2.Bun) owners.push([g2.Bun, "connect"]);
  const before = owners.map(([o, k]) => o[k]);
  const g = enableGuard({ mode: "report", sinks: ["memory"], discover: false });
  const during = owners.map(([o, k]) => o[k]);
  await g.disable();
  const restored = owners.map(([o, k]) => o[k]);
  for (let i = 0; i < owners.length; i++) {
    assert.notEqual(during[i], before[i], `${owners[i]![1]} wrapped while the guard is on`);
    assert.equal(restored[i], before[i], `${owners[i]![1]} restored`);
  }
});

test("an ordinary connection passes untouched and unrecorded", async () => {
  const g = enableGuard({ mode: "block", sinks: ["memory"], discover: false });
  try {
    const from = accepted;
    await settled(net.connect(tcpPort, "127.0.0.1"));
    await settled(tls.connect({ host: "127.0.0.1", port: tcpPort, servername: "example.com" }));
    assert.equal(await acceptedSince(from, 2), 2);
    assert.deepEqual(aiCalls(g.records()), []);
    assert.equal(g.stats().calls, 0);
  } finally {
    await g.disable();
  }
});

test("Deno's EventSource to an AI path: report → one record; block → nothing arrives", {
  skip: typeof (globalThis as { EventSource?: unknown }).EventSource !== "function" &&
    `no global EventSource on ${runtime}`,
}, async () => {
  const url = `${servers.http1}/v1/chat/completions`;
  const open = () =>
    new Promise<void>((resolve) => {
      const source = new EventSource(url);
      source.onerror = () => {
        source.close(); // the mock answers JSON, not an event stream
        resolve();
      };
    });
  let g = enableGuard({ mode: "report", sinks: ["memory"], discover: false });
  try {
    await open();
    const records = aiCalls(g.records());
    assert.equal(records.length, 1);
    assert.equal(records[0]!.target, "eventsource GET 127.0.0.1/v1/chat/completions");
    await servers.waitFor("/v1/chat/completions");
  } finally {
    await g.disable();
  }
  g = enableGuard({ mode: "block", sinks: ["memory"], discover: false });
  try {
    const before = servers.seen.length;
    assert.throws(() => new EventSource(url), AttestationError);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(servers.seen.slice(before), []);
  } finally {
    await g.disable();
  }
});

test("a request an upper layer decided is one record, not one more for its socket", async () => {
  const port = new URL(servers.http1).port;
  const h2Port = new URL(servers.http2).port;
  const g = enableGuard({
    mode: "report",
    sinks: ["memory"],
    discover: false,
    clients: [WsClient], // Bun's own ws is seen through its class
    providers: [
      { provider: "acme_llm", host: `127.0.0.1:${port}` },
      { provider: "acme_llm", host: `127.0.0.1:${h2Port}` },
    ],
  });
  const agent = new http.Agent({ keepAlive: false });
  try {
    const sends: Array<[string, () => Promise<unknown>]> = [
      ["fetch", async () => await (await fetch(`${servers.http1}/v1/models`)).text()],
      [
        "http",
        () =>
          new Promise((resolve, reject) =>
            http.get(`${servers.http1}/v1/models`, { agent }, (res) => {
              res.resume();
              res.on("end", resolve);
            }).on("error", reject)
          ),
      ],
      ["axios", () => axios.get(`${servers.http1}/v1/models`, { httpAgent: agent })],
      ["http2", () => {
        const session = http2.connect(servers.http2);
        return new Promise((resolve, reject) => {
          const stream = session.request({ ":path": "/v1/models" });
          stream.resume();
          stream.on("end", resolve);
          stream.on("error", reject);
        }).finally(() => session.close());
      }],
      ["ws", () =>
        new Promise((resolve, reject) => {
          const socket = new WsClient(`${servers.http1.replace("http", "ws")}/echo`);
          socket.on("open", () => {
            socket.close();
            resolve(null);
          });
          socket.on("error", reject);
        })],
    ];
    if (runtime !== "bun") {
      sends.push([
        "undici",
        async () => await (await undici.request(`${servers.http1}/v1/models`)).body.text(),
      ]);
    }
    for (const [name, send] of sends) {
      const before = aiCalls(g.records()).length;
      await send();
      const added = aiCalls(g.records()).slice(before);
      assert.equal(added.length, 1, `${name}: ${JSON.stringify(added)}`);
      assert.notEqual(added[0]!.detector, "socket", name);
    }
  } finally {
    agent.destroy();
    await g.disable();
  }
});
