import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { buildNpm } from "../../../scripts/build_npm.mjs";
import { type MockAiServer, startMockAiServer } from "../../support/mock_ai_server.ts";

const run = promisify(execFile);
const bin = (name: string) => resolve("node_modules/.bin", name);
let work: string;
let tarball: string;
let server: MockAiServer;
const OPENAI = JSON.parse(await readFile(resolve("package.json"), "utf8")).devDependencies.openai;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "aiguard-npm-"));
  server = await startMockAiServer();
  await buildNpm();
  const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", work], {
    cwd: resolve("dist"),
  });
  tarball = join(work, stdout.trim().split("\n").at(-1)!);
});
after(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

test("the npm package's exports mirror deno.json's, and every target exists", async () => {
  const deno = JSON.parse(await readFile(resolve("deno.json"), "utf8"));
  const pkg = JSON.parse(await readFile(resolve("dist/package.json"), "utf8"));
  assert.deepEqual(Object.keys(pkg.exports), Object.keys(deno.exports));
  for (const [key, target] of Object.entries(pkg.exports) as [string, Record<string, string>][]) {
    const source = (deno.exports[key] as string).replace(/\.ts$/, "");
    assert.equal(target.default, `${source}.js`);
    await stat(resolve("dist", target.default));
    await stat(resolve("dist", target.types));
  }
  assert.deepEqual(Object.keys(pkg.dependencies), ["@opentelemetry/api"]);
  // The scanner's parser is optional: a guarded service never installs it.
  assert.equal(pkg.peerDependenciesMeta["oxc-parser"].optional, true);
  assert.equal(pkg.bin.aiguard, "./cli.js");
  for (const sdk of ["openai", "@anthropic-ai/sdk", "@google/genai", "ai"]) {
    assert.equal(pkg.dependencies[sdk], undefined);
  }
});

test("every module the package loads by its path is a file of the build", async () => {
  const paths = new Set<string>(["src/preload/worker"]); // src/detect/worker.ts's entry
  for (const file of await readdir(resolve("src"), { recursive: true })) {
    if (!file.endsWith(".ts")) continue;
    const text = await readFile(resolve("src", file), "utf8");
    for (const m of text.matchAll(/requireOwnModule<[^;{]*?>\(\s*"([^"]+)"/g)) paths.add(m[1]!);
  }
  assert.ok(paths.size >= 6, [...paths].join());
  for (const path of paths) await stat(resolve("dist", `${path}.js`));
});

async function project(): Promise<string> {
  const dir = await mkdtemp(join(work, "app-"));
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify({ name: "app", private: true, type: "module" }),
  );
  return dir;
}

function env(extra: Record<string, string>) {
  return {
    ...process.env,
    OPENAI_BASE_URL: `${server.url}/v1`,
    OPENAI_API_KEY: "sk-test",
    ...extra,
  };
}

test("npm: installed from the tarball, node --import @aiguard/attest/auto guards the example app", async () => {
  const dir = await project();
  await run("npm", [
    "install",
    "--no-audit",
    "--no-fund",
    "--prefer-offline",
    tarball,
    `openai@${OPENAI}`,
  ], { cwd: dir });
  await copyFile(resolve("examples/node/app.mjs"), join(dir, "app.mjs"));
  const before = server.requests.length;
  const blocked = await run(bin("node"), ["--import", "@aiguard/attest/auto", "app.mjs"], {
    cwd: dir,
    env: env({
      AIGUARD_MODE: "block",
      AIGUARD_REPORT_PATH: join(dir, "block.jsonl"),
      AIGUARD_SOCKET: join(dir, "none.sock"),
    }),
  });
  assert.match(blocked.stdout, /attested: hello from mock/);
  assert.match(blocked.stdout, /blocked: Unattested openai chat .* at app\.mjs:\d+:\d+/);
  assert.equal(server.requests.length, before + 1);
  const report = join(dir, "guard_log.jsonl");
  await run(bin("node"), ["--import", "@aiguard/attest/auto", "app.mjs"], {
    cwd: dir,
    env: env({
      AIGUARD_MODE: "report",
      AIGUARD_REPORT_PATH: report,
      AIGUARD_SOCKET: join(dir, "none.sock"),
    }),
  });
  // Records only: the report's head line (chain_start) is the chain's own.
  const records = (await readFile(report, "utf8")).trim().split("\n").map((l) => JSON.parse(l))
    .filter((r) => r.v === 1);
  assert.equal(records.length, 1);
  assert.equal(records[0].target, "openai.chat.completions.create");
  assert.match(records[0].call_site, /^app\.mjs:\d+:\d+$/);
  // The bin: npx aiguard check fails CI while the unattested call site remains.
  const check = await run(bin("node"), [
    join(dir, "node_modules/.bin/aiguard"),
    "check",
    "--file",
    report,
  ], { cwd: dir })
    .then(() => 0, (error: { code: number; stdout: string }) => error.code);
  assert.equal(check, 1);
});

test("bun: bun add of the tarball, bunfig preload guards the example app", async () => {
  const dir = await project();
  await run(bin("bun"), ["add", tarball, `openai@${OPENAI}`], { cwd: dir });
  await copyFile(resolve("examples/bun/app.ts"), join(dir, "app.ts"));
  await copyFile(resolve("examples/bun/bunfig.toml"), join(dir, "bunfig.toml"));
  const before = server.requests.length;
  const blocked = await run(bin("bun"), ["app.ts"], {
    cwd: dir,
    env: env({
      AIGUARD_MODE: "block",
      AIGUARD_REPORT_PATH: join(dir, "b.jsonl"),
      AIGUARD_SOCKET: join(dir, "none.sock"),
    }),
  });
  assert.match(blocked.stdout, /attested: hello from mock/);
  assert.match(blocked.stdout, /blocked: Unattested openai chat .* at app\.ts:\d+:\d+/);
  assert.equal(server.requests.length, before + 1);
  const viaFlag = await run(bin("bun"), ["--preload", "@aiguard/attest/auto", "app.ts"], {
    cwd: dir,
    env: env({
      AIGUARD_MODE: "report",
      AIGUARD_REPORT_PATH: join(dir, "r.jsonl"),
      AIGUARD_SOCKET: join(dir, "none.sock"),
    }),
  });
  assert.match(viaFlag.stdout, /unattested: hello from mock/);
  const records = (await readFile(join(dir, "r.jsonl"), "utf8")).trim().split("\n")
    .filter((l) => JSON.parse(l).v === 1);
  assert.equal(records.length, 1);
});

// The build where no path rule of a dependency hides it (outside node_modules): its entries and
// shared chunks are still the package's own frames (attest()'s wrapper runs between the app's two
// frames of a call attested with an id the policy does not know), the modules it loads on demand by path are
// there (the SDK layer, loaded synchronously as the SDK's entry loads, so the client's first call is
// seen by it), and a worker the app starts finds the worker entry.
const layoutApp = (mod: string) =>
  `import OpenAI from "openai";
import threads from "node:worker_threads";
import { attest } from ${JSON.stringify(mod)};
const openai = new OpenAI({ apiKey: "sk-test", baseURL: process.env.OPENAI_BASE_URL });
const ask = () =>
  openai.chat.completions.create({ model: "m", messages: [{ role: "user", content: "q" }] });
await ask();
await attest(ask, { id: "layout" })();
const ended = (worker) => new Promise((resolve, reject) => worker.on("exit", resolve).on("error", reject));
await ended(new threads.Worker(new URL("./worker.mjs", import.meta.url)));
// Node runs no --import for an eval worker: only the worker entry guards it.
await ended(new threads.Worker(${JSON.stringify(EVAL_WORKER)}, { eval: true }));
`;
const EVAL_WORKER = `fetch(process.env.OPENAI_BASE_URL + "/embeddings", {
  method: "POST", headers: { "content-type": "application/json" }, body: "{}" }).then((r) => r.text());
`;
const LAYOUT_WORKER = `const r = await fetch(process.env.OPENAI_BASE_URL + "/chat/completions", {
  method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
await r.text();
`;

for (const runtime of ["node", "bun"] as const) {
  test(`${runtime}: the build run from its own directory guards the app and its worker`, async () => {
    // Under the repository, so the app finds openai in its node_modules.
    await mkdir(resolve(".tmp"), { recursive: true });
    const dir = await mkdtemp(join(resolve(".tmp"), "npm-layout-"));
    try {
      await writeFile(join(dir, "app.mjs"), layoutApp(resolve("dist/mod.js")));
      await writeFile(join(dir, "worker.mjs"), LAYOUT_WORKER);
      await writeFile(
        join(dir, "aiguard.jsonc"),
        JSON.stringify({ policy: { requireRegistered: true } }),
      );
      const report = join(dir, "r.jsonl");
      const flag = runtime === "node" ? "--import" : "--preload";
      await run(bin(runtime), [flag, resolve("dist/auto.js"), "app.mjs"], {
        cwd: dir,
        env: env({
          AIGUARD_MODE: "report",
          AIGUARD_REPORT_PATH: report,
          AIGUARD_SOCKET: join(dir, "none.sock"),
        }),
      });
      const calls = (await readFile(report, "utf8")).trim().split("\n").map((l) => JSON.parse(l))
        .filter((r) => r.event === "ai_call");
      const app = calls.filter((r) => r.call_site?.startsWith("app.mjs:"));
      assert.deepEqual(app.map((r) => [r.target, r.attested]), [
        ["openai.chat.completions.create", false],
        ["openai.chat.completions.create", true],
      ]);
      for (const record of app) {
        for (const frame of record.stack) assert.match(frame, /^app\.mjs:\d+:\d+$/);
      }
      const workers = calls.filter((r) => r.detector === "fetch").map((r) => r.operation);
      assert.deepEqual(workers.sort(), ["chat", "embeddings"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
