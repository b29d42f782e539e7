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
