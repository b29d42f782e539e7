/**
 * An app that puts its own `WebSocket` class on the global (without reading Node's lazy one) and
 * enables the guard afterwards in code keeps its class: the guard wraps that class, not Node's, and
 * `disableGuard()` puts it back. Run in a child process: a process that has read Node's `WebSocket`
 * (loaded undici) cannot show it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const run = promisify(execFile);
const mod = fileURLToPath(new URL("../../../mod.ts", import.meta.url));

const APP = `
const undici = () => process.moduleLoadList.includes("NativeModule internal/deps/undici/undici");
class AppSocket { constructor(url) { this.url = String(url); } }
globalThis.WebSocket = AppSocket; // assigned, never read: Node's class is still unloaded
const before = undici();
const { enableGuard, disableGuard } = await import(${JSON.stringify(mod)});
const guard = enableGuard({ mode: "report", sinks: ["memory"], discover: false });
const socket = new globalThis.WebSocket("wss://api.openai.com/v1/realtime?model=gpt-realtime");
const out = {
  before,
  isApps: socket instanceof AppSocket,
  url: socket.url,
  records: guard.records().filter((r) => r.event === "ai_call").length,
};
await disableGuard();
out.restored = globalThis.WebSocket === AppSocket;
console.log(JSON.stringify(out));
`;

const WS_APP = `
const undici = () => process.moduleLoadList.includes("NativeModule internal/deps/undici/undici");
const { WebSocket: Ws } = await import("ws");
globalThis.WebSocket = Ws; // the ws package as the app's global, Node's never read
const before = undici();
const { enableGuard, disableGuard } = await import(${JSON.stringify(mod)});
const guard = enableGuard({ mode: "report", sinks: ["memory"], discover: false });
// A Realtime path on a loopback port nothing listens on: an AI call, no network.
const socket = new globalThis.WebSocket("ws://127.0.0.1:9/v1/realtime");
const refused = await new Promise((resolve) => socket.on("error", () => resolve(true)));
const out = {
  before,
  isWs: socket instanceof Ws,
  refused,
  records: guard.records().filter((r) => r.event === "ai_call").length,
};
await disableGuard();
out.restored = globalThis.WebSocket === Ws;
console.log(JSON.stringify(out));
`;

test("an app's own global WebSocket, set before enableGuard() in code, is the one guarded and put back", async () => {
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", APP], {
    env: { ...process.env, AIGUARD_MODE: "", AIGUARD_SINKS: "" },
  });
  const out = JSON.parse(stdout.trim().split("\n").at(-1)!);
  assert.equal(out.before, false, "the app had not loaded Node's WebSocket");
  assert.equal(out.isApps, true, "new WebSocket() under the guard makes the app's socket");
  assert.equal(out.url, "wss://api.openai.com/v1/realtime?model=gpt-realtime");
  assert.equal(out.records, 1, "the AI connection through the app's class is recorded");
  assert.equal(out.restored, true, "disableGuard() puts the app's class back");
});

test("the ws package as the app's global WebSocket: its sockets, one record, and the global back after disable", async () => {
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", WS_APP], {
    cwd: fileURLToPath(new URL("../../..", import.meta.url)),
    env: { ...process.env, AIGUARD_MODE: "", AIGUARD_SINKS: "" },
  });
  const out = JSON.parse(stdout.trim().split("\n").at(-1)!);
  assert.equal(out.before, false, "the app had not loaded Node's WebSocket");
  assert.equal(out.isWs, true, "new WebSocket() under the guard makes a ws socket");
  assert.equal(out.refused, true, "the app's own error handler sees the refused connection");
  assert.equal(out.records, 1, "the AI connection through ws is recorded once");
  assert.equal(out.restored, true, "disableGuard() puts ws back as the global");
});
