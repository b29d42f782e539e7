// @runtimes deno bun node
/**
 * The preload patches a built-in module when the app reaches it, not at start: it loads no
 * built-in the app does not load (counted on Node, whose `process.moduleLoadList` lists them), and
 * every way to reach one is still guarded before its first call.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtimeKey } from "../src/runtime.ts";

const runtime = runtimeKey();
const exec = (globalThis as { Deno?: { execPath(): string } }).Deno?.execPath() ??
  process.execPath;

function run(
  app: string,
  env: Record<string, string>,
  preload = true,
): Promise<string> {
  const pre = preload ? [runtime === "node" ? "--import" : "--preload", "./auto.ts"] : [];
  const args = runtime === "deno" ? ["run", "-A", ...pre, app] : [...pre, app];
  return new Promise((resolve, reject) =>
    execFile(exec, args, { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message}\n${stderr}`));
      resolve(stdout.trim().split("\n").at(-1)!);
    })
  );
}

let server: Server;
let port = 0;
let accepted = 0;
let dir = "";

before(async () => {
  server = createServer((socket) => {
    accepted++;
    socket.on("error", () => {});
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
  dir = mkdtempSync(join(tmpdir(), "aiguard-builtins-"));
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

test(
  "the preload loads no public built-in but node:module, nor undici, before the app's first line",
  {
    skip: runtime !== "node" && "only Node lists the built-ins it has loaded",
  },
  async () => {
    const app = join(dir, "load_list.mjs");
    writeFileSync(app, "console.log(JSON.stringify(process.moduleLoadList));\n");
    const env = { HOME: dir, AIGUARD_MODE: "report" };
    const without = new Set(JSON.parse(await run(app, env, false)) as string[]);
    const withPreload = JSON.parse(await run(app, env)) as string[];
    const { builtinModules } = await import("node:module");
    const publicNames = new Set(builtinModules.map((name) => `NativeModule ${name}`));
    const added = withPreload.filter((entry) => !without.has(entry));
    // node:module holds registerHooks(); every other public one is loaded only when the app does.
    assert.deepEqual(added.filter((entry) => publicNames.has(entry)), ["NativeModule module"]);
    assert.ok(
      !added.includes("NativeModule internal/deps/undici/undici"),
      "the global WebSocket is not read at start (that loads undici)",
    );
  },
);

test("every way the app reaches a patched built-in is guarded before its first call", async () => {
  const config = join(dir, "aiguard.jsonc");
  writeFileSync(
    config,
    JSON.stringify({ providers: [{ provider: "acme_llm", host: "127.0.0.1" }] }),
  );
  const before = accepted;
  const out = JSON.parse(
    await run("tests/support/preload_builtins_app.ts", {
      HOME: dir,
      AIGUARD_MODE: "block",
      AIGUARD_SINKS: "memory",
      AIGUARD_CONFIG: config,
      AIGUARD_TEST_PORT: String(port),
    }),
  ) as Record<string, string>;
  const blocked = [
    "import http from http",
    "require(node:https)",
    "import(node:net)",
    "require(tls)",
    "getBuiltinModule(node:http2)",
    "new WebSocket",
    "worker_threads Worker",
    // Bound when the app's module links, after the preload's hooks saw the import and patched.
    "import { request } from node:http",
  ];
  for (const way of blocked) assert.equal(out[way], "AttestationError", `${way}: ${out[way]}`);
  assert.equal(out["typeof WebSocket"], "function");
  // The global keeps the shape the runtime gives it once read (a data property on Node and Bun,
  // an accessor on Deno).
  const plain = join(dir, "websocket_shape.mjs");
  writeFileSync(
    plain,
    "WebSocket;\nconst d = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');\n" +
      "console.log(JSON.stringify({ keys: Object.keys(d).sort(), enumerable: d.enumerable, " +
      "configurable: d.configurable, writable: d.writable }));\n",
  );
  assert.equal(out["WebSocket descriptor"], await run(plain, { HOME: dir }, false));
  await new Promise((resolve) => setTimeout(resolve, 100));
  // The http2 session connects (the connection is no call); nothing else reached the server.
  assert.ok(accepted - before <= 1, `${accepted - before} connections`);
});

test("a fetch the runtime redirects to an AI path is recorded under the preload (its first fetch)", async () => {
  const web = createHttpServer((req, res) => {
    if (req.url === "/start") res.writeHead(307, { location: "/v1/chat/completions" }).end();
    else res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = web.address() as { port: number };
    const targets = JSON.parse(
      await run("tests/support/preload_redirect_app.ts", {
        HOME: dir,
        AIGUARD_MODE: "report",
        AIGUARD_SINKS: "memory",
        AIGUARD_TEST_URL: `http://127.0.0.1:${port}/start`,
      }),
    ) as string[];
    assert.equal(targets.length, 1, JSON.stringify(targets));
    assert.match(targets[0]!, /127\.0\.0\.1\/v1\/chat\/completions$/);
  } finally {
    await new Promise((resolve) => web.close(resolve));
  }
});

test("with AIGUARD_MODE=off the preload hooks nothing: the app sees the runtime's own functions", async () => {
  const app = join(dir, "hooks_off.mjs");
  writeFileSync(
    app,
    "const { default: Module } = await import('node:module');\n" +
      "console.log(JSON.stringify([String(process.getBuiltinModule), " +
      "String(Module.prototype.require), typeof WebSocket]));\n",
  );
  const env = { HOME: dir, AIGUARD_MODE: "off" };
  assert.equal(await run(app, env), await run(app, env, false));
});

test(
  "the preload loads the SDK layer with the first SDK and the record output with the first record",
  {
    // (On Deno the spy's own resolve hook keeps the guard from loading them synchronously: this
    // runs the import they fall back to there.)
    skip: runtime === "bun" && "Bun has no module.registerHooks() to list the modules resolved",
  },
  async () => {
    // A preload before the guard's lists every module resolved after it (the guard's own too).
    const spy = join(dir, "resolve_spy.mjs");
    writeFileSync(
      spy,
      "import { registerHooks } from 'node:module';\nglobalThis.resolvedUrls = [];\n" +
        "registerHooks({ resolve(s, c, next) { const r = next(s, c); " +
        "globalThis.resolvedUrls.push(r.url); return r; } });\n",
    );
    const app = "tests/support/preload_lazy_parts_app.ts";
    const pre = runtime === "node" ? "--import" : "--preload";
    const preloads = [pre, spy, pre, "./auto.ts"];
    const args = runtime === "deno" ? ["run", "-A", ...preloads, app] : [...preloads, app];
    const reportPath = join(dir, "lazy_parts.jsonl");
    const out = await new Promise<string>((resolve, reject) =>
      execFile(exec, args, {
        env: {
          ...process.env,
          HOME: dir,
          AIGUARD_MODE: "report",
          AIGUARD_REPORT_PATH: reportPath,
          AIGUARD_SOCKET: join(dir, "none.sock"),
          AIGUARD_TEST_PORT: String(port),
        },
      }, (error, stdout, stderr) => {
        if (error) return reject(new Error(`${error.message}\n${stderr}`));
        resolve(stdout.trim().split("\n").at(-1)!);
      })
    );
    const { atStart, afterSdk, afterCall } = JSON.parse(out) as Record<string, string[]>;
    const sdkLayer = /^src\/detect\/sdk(\.|\/)/;
    const output = /^src\/report\/(chain|queue|daemon_client|otel)\./;
    assert.ok(atStart!.some((u) => u.startsWith("src/guard/local.")), "the guard is loaded");
    assert.deepEqual(atStart!.filter((u) => sdkLayer.test(u) || output.test(u)), []);
    assert.ok(afterSdk!.some((u) => /^src\/detect\/sdk\.[jt]s$/.test(u)), afterSdk!.join());
    assert.deepEqual(afterSdk!.filter((u) => output.test(u)), []);
    assert.ok(afterCall!.some((u) => /^src\/report\/chain\.[jt]s$/.test(u)), afterCall!.join());
    // The record written through the output loaded on demand.
    const lines = readFileSync(reportPath, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.filter((r) => r.event === "ai_call").map((r) => [r.action, r.detector]),
      [["reported", "fetch"]],
    );
  },
);
