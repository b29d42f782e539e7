// What the transport layers cost ordinary (non-AI) traffic, guard off vs on:
//  - micro: ns per call of the wrapper alone, over a no-op underneath, for node:http request(),
//    an http2 session's request() and `new WebSocket()`;
//  - real: a non-AI loopback round trip over node:http and over h2c, ratio on / off.
// Prints medians of 11 alternating runs as JSON.
import http from "node:http";
import http2 from "node:http2";
import { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import { microRounds, pairedRounds, userEntry } from "./_stats.ts";

// As users run it (the npm build on Node and Bun, the source on Deno), with the default sinks: a
// non-AI call writes no record, so no sink is involved.
const { disableGuard, enableGuard } = await userEntry();

const MICRO_N = 300_000;
const REAL_N = 1_500;
const RUNS = 11;
const on = () => enableGuard({ mode: "report", discover: false });

/** ns per call of `fn`, guard off vs on, alternating; the medians and the added ns. */
const micro = (fn: () => void) => microRounds(fn, MICRO_N, on, disableGuard, RUNS);

// node:http request(): the module's own function replaced by a no-op before the guard wraps it.
const httpModule = http as unknown as { request: unknown };
const realRequest = httpModule.request;
const fakeRequest = { end() {} };
httpModule.request = () => fakeRequest;
const httpMicro = await micro(() => {
  (http.request as unknown as (o: object) => void)({
    hostname: "127.0.0.1",
    port: 8080,
    path: "/static/app.js?v=3",
    method: "GET",
  });
});
httpModule.request = realRequest;

// http2: sessions over a stream that goes nowhere, their prototype's request() made a no-op. Each
// state gets a session of its own, the guard's opened through its connect() as every session is
// under the preload: the guard knows its origin as it knows the app's.
const openSession = () => {
  const opened = http2.connect("http://127.0.0.1:8080", {
    createConnection: () =>
      new Duplex({
        read() {},
        write(_c, _e, done) {
          done();
        },
      }),
  });
  opened.on("error", () => {});
  return opened as unknown as { request(h: object): void; destroy(): void };
};
let session = openSession();
const sessionProto = Object.getPrototypeOf(session) as { request: unknown };
const realH2Request = sessionProto.request;
sessionProto.request = () => fakeRequest;
const headers = { ":method": "GET", ":path": "/static/app.js?v=3" };
const reopen = () => {
  session.destroy();
  session = openSession();
};
const h2Micro = await microRounds(
  () => session.request(headers),
  MICRO_N,
  () => {
    on();
    reopen();
  },
  async () => {
    await disableGuard();
    reopen();
  },
  RUNS,
);
sessionProto.request = realH2Request;
session.destroy();

// new WebSocket(): a trivial class in place of the runtime's, so no connection is made.
const RealWebSocket = globalThis.WebSocket;
(globalThis as { WebSocket: unknown }).WebSocket = class {
  url: string;
  constructor(url: string) {
    this.url = url;
  }
};
const wsMicro = await micro(() => {
  new WebSocket("ws://127.0.0.1:8080/live/updates");
});
(globalThis as { WebSocket: unknown }).WebSocket = RealWebSocket;

// Real round trips to a loopback server that is no AI endpoint.
const h1 = http.createServer((_req, res) => res.end("ok"));
await new Promise<void>((r) => h1.listen(0, "127.0.0.1", r));
const h1Port = (h1.address() as AddressInfo).port;
const agent = new http.Agent({ keepAlive: true });
function getHttp(): Promise<void> {
  return new Promise((resolve, reject) => {
    http.get({ hostname: "127.0.0.1", port: h1Port, path: "/health", agent }, (res) => {
      res.resume();
      res.on("end", resolve);
    }).on("error", reject);
  });
}
const h2 = http2.createServer((_req, res) => res.end("ok"));
await new Promise<void>((r) => h2.listen(0, "127.0.0.1", r));
const h2Session = http2.connect(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`);
function getH2(): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = h2Session.request({ ":path": "/health" });
    stream.resume();
    stream.on("end", resolve);
    stream.on("error", reject);
    stream.end();
  });
}

async function real(get: () => Promise<void>): Promise<number> {
  const time = async () => {
    const start = performance.now();
    for (let i = 0; i < REAL_N; i++) await get();
    return (performance.now() - start) / REAL_N;
  };
  return (await pairedRounds(time, on, disableGuard, RUNS)).ratio;
}

const httpRatio = await real(getHttp);
const h2Ratio = await real(getH2);
h2Session.close();
agent.destroy();
h1.close();
h2.close();

console.log(JSON.stringify({
  http_micro_ns_added: httpMicro.added,
  http_micro_ns_off: httpMicro.off,
  http2_micro_ns_added: h2Micro.added,
  http2_micro_ns_off: h2Micro.off,
  websocket_micro_ns_added: wsMicro.added,
  websocket_micro_ns_off: wsMicro.off,
  http_real_ratio: httpRatio,
  http2_real_ratio: h2Ratio,
}));
