/**
 * Under Bun the preload traps the client classes a catalog SDK's CommonJS entry assigns to
 * `exports` (Bun has no `module.require` channel). openai 3.x's entry binds its exports with
 * `__exportStar`, which skips a name `exports` already has as its own: a trap on `exports` itself
 * left `OpenAIApi` undefined for the app. The real openai 3.3.0 (devDependency `openai-v3`) is
 * installed as `openai` in a temporary project; its calls still reach a loopback server, recorded
 * by the transport layer.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
let server: Server;
let dir: string;
const paths: string[] = [];

before(async () => {
  server = createServer((request, response) => {
    paths.push(request.url ?? "");
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ id: "c1", choices: [{ message: { content: "hi" } }] }));
    });
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  dir = await mkdtemp(join(tmpdir(), "aiguard-openai3-"));
  await mkdir(join(dir, "node_modules"));
  await symlink(resolve("node_modules/openai-v3"), join(dir, "node_modules", "openai"), "dir");
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "app", version: "1.0.0" }));
});
after(async () => {
  await new Promise((closed) => server.close(closed));
  await rm(dir, { recursive: true, force: true });
});

const APP = `
const openai = require("openai");
const names = Object.keys(openai).filter((k) => k === "OpenAIApi" || k === "Configuration");
const api = new openai.OpenAIApi(new openai.Configuration({ apiKey: "k", basePath: process.env.BASE }));
api.createChatCompletion({ model: "m", messages: [{ role: "user", content: "hi" }] }).then(
  (r) => console.log(JSON.stringify({ names, type: typeof openai.OpenAIApi, answer: r.data.choices[0].message.content })),
  (e) => { console.log(JSON.stringify({ names, error: String(e) })); process.exitCode = 2; },
);
`;

test("bun --preload: openai 3.x's OpenAIApi is there, its call goes through and is recorded", async () => {
  await writeFile(join(dir, "app.cjs"), APP);
  const report = join(dir, "r.jsonl");
  const { port } = server.address() as AddressInfo;
  const env = {
    ...process.env,
    BASE: `http://127.0.0.1:${port}/v1`,
    AIGUARD_MODE: "report",
    AIGUARD_SINKS: "file",
    AIGUARD_REPORT_PATH: report,
    AIGUARD_SOCKET: join(dir, "none.sock"),
  };
  const plain = await run(process.execPath, ["app.cjs"], { cwd: dir, env });
  const guarded = await run(process.execPath, ["--preload", resolve("auto.ts"), "app.cjs"], {
    cwd: dir,
    env,
  });
  const seen = JSON.parse(guarded.stdout.trim().split("\n").at(-1)!);
  assert.deepEqual(
    seen,
    JSON.parse(plain.stdout.trim().split("\n").at(-1)!),
    "the app sees the same",
  );
  assert.deepEqual(seen, { names: ["OpenAIApi", "Configuration"], type: "function", answer: "hi" });
  assert.deepEqual(paths, ["/v1/chat/completions", "/v1/chat/completions"]);
  const records = (await readFile(report, "utf8")).split("\n").filter((l) => l.includes('"target"'))
    .map((l) => JSON.parse(l));
  assert.equal(records.length, 1, JSON.stringify(records));
  assert.equal(records[0].operation, "chat");
  assert.equal(records[0].attested, false);
});
