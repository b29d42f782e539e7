/**
 * An application started with the preload in block mode that reaches each built-in a layer patches
 * in another way (named ESM import, default import of a bare name, `require()`, `import()`,
 * `process.getBuiltinModule()`), plus the global WebSocket, and makes one AI call through each.
 * The target is the loopback port in `AIGUARD_TEST_PORT` (a `providers` rule names it). Prints one
 * JSON line: each way → the name of the error it threw (`AttestationError` when guarded), or `sent`.
 */
import { request } from "node:http";
import http from "http";
import { createRequire } from "node:module";

const port = Number(
  (globalThis as { process: { env: Record<string, string> } }).process.env
    .AIGUARD_TEST_PORT,
);
const url = `http://127.0.0.1:${port}/v1/chat/completions`;
const require = createRequire(import.meta.url);
const proc = (globalThis as unknown as {
  process: { getBuiltinModule(id: string): Record<string, (...args: unknown[]) => unknown> };
}).process;

/** Runs one way; a request that was made is destroyed at once (the server counts it). */
function attempt(open: () => unknown): string {
  try {
    const made = open() as { on?(e: string, f: () => void): void; destroy?(): void } | undefined;
    made?.on?.("error", () => {});
    made?.destroy?.();
    return "sent";
  } catch (error) {
    return (error as Error).name;
  }
}

/** The shape of a global's property, as the test compares it with an unguarded run's. */
function describeGlobal(name: string): string {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
  return JSON.stringify({
    keys: Object.keys(descriptor ?? {}).sort(),
    enumerable: descriptor?.enumerable,
    configurable: descriptor?.configurable,
    writable: descriptor?.writable,
  });
}

const results: Record<string, string> = {};
results["import { request } from node:http"] = attempt(() => request(url, { method: "POST" }));
results["import http from http"] = attempt(() => http.get(url));
results["require(node:https)"] = attempt(() =>
  (require("node:https") as typeof import("node:https")).request(
    `https://127.0.0.1:${port}/v1/chat/completions`,
  )
);
// The module object (`default`): Deno and Bun bind named exports to the original functions.
const { default: net } = await import("node:net");
results["import(node:net)"] = attempt(() => net.connect({ host: "127.0.0.1", port }));
results["require(tls)"] = attempt(() =>
  (require("tls") as typeof import("node:tls")).connect({ host: "127.0.0.1", port })
);
const h2 = proc.getBuiltinModule("node:http2") as unknown as typeof import("node:http2");
// The session is no call (its connection is counted); its first AI request is.
const session = h2.connect(`http://127.0.0.1:${port}`);
session.on("error", () => {});
results["getBuiltinModule(node:http2)"] = attempt(() =>
  session.request({ ":path": "/v1/chat/completions", ":method": "POST" })
);
session.destroy();
results["typeof WebSocket"] = typeof WebSocket;
results["new WebSocket"] = attempt(() => new WebSocket(`ws://127.0.0.1:${port}/v1/realtime`));
results["WebSocket descriptor"] = describeGlobal("WebSocket");
const { Worker } = await import("node:worker_threads");
const worker = new Worker(new URL("./worker_ai_call.ts", import.meta.url), {
  workerData: { url, attested: false },
});
results["worker_threads Worker"] = await new Promise<string>((resolve, reject) => {
  worker.once("message", (message: string) => resolve(message));
  worker.once("error", reject);
});
await worker.terminate();
console.log(JSON.stringify(results));
