// @runtimes deno bun node
/**
 * The preload patches an SDK when the app loads it, through the runtime's module hooks, and imports
 * no SDK the app does not import.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";

const runtime = (globalThis as { Deno?: unknown }).Deno
  ? "deno"
  : (globalThis as { Bun?: unknown }).Bun
  ? "bun"
  : "node";

function preloadCommand(app: string): [string, string[]] {
  const exec = (globalThis as { Deno?: { execPath(): string } }).Deno?.execPath() ??
    process.execPath;
  if (runtime === "deno") return [exec, ["run", "-A", "--preload", "./auto.ts", app]];
  if (runtime === "bun") return [exec, ["--preload", "./auto.ts", app]];
  return [exec, ["--import", "./auto.ts", app]];
}

function run(
  env: Record<string, string>,
  app = "tests/support/preload_app.ts",
): Promise<Record<string, unknown>> {
  const [cmd, args] = preloadCommand(app);
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split("\n").at(-1)!));
    })
  );
}

test("the preload patches the SDK the app loads, as it loads, and imports no other", async () => {
  const out = await run({ AIGUARD_MODE: "report", AIGUARD_SINKS: "memory" });
  assert.equal(out.detector, "sdk", JSON.stringify(out));
  assert.equal(out.target, "openai.chat.completions.create");
  assert.match(String(out.call_site), /^tests\/support\/preload_app\.ts:11:\d+$/);
  // Only openai's entry was handed over: the other installed SDKs were never loaded.
  assert.deepEqual(out.loaded, ["OpenAI"]);
});

test("AIGUARD_DISCOVER=false: nothing is patched at load; the fetch layer still sees the call", async () => {
  const out = await run({ AIGUARD_MODE: "report", AIGUARD_SINKS: "memory", AIGUARD_DISCOVER: "0" });
  assert.equal(out.detector, "fetch", JSON.stringify(out));
});

test("the preload rebinds the ai SDK's functions: the call site is the application's, Bun too", async () => {
  const out = await run(
    { AIGUARD_MODE: "report", AIGUARD_SINKS: "memory" },
    "tests/support/preload_ai_app.ts",
  );
  assert.match(
    String(out.call_site),
    /^tests\/support\/preload_ai_app\.ts:14:\d+$/,
    JSON.stringify(out),
  );
  assert.equal(out.detector, "fetch");
  assert.equal(out.name, "generateText", "the wrapper keeps the function's name");
});

test("an SDK loaded with require() (its CommonJS entry) is patched as it loads", async () => {
  const out = await run(
    { AIGUARD_MODE: "report", AIGUARD_SINKS: "memory" },
    "tests/support/preload_require_app.ts",
  );
  assert.equal(out.detector, "sdk", JSON.stringify(out));
  assert.equal(out.target, "openai.chat.completions.create");
  assert.match(String(out.call_site), /^tests\/support\/preload_require_app\.ts:14:\d+$/);
  assert.equal(out.handed, 1, "a module required twice is handed to the guard once");
});

test("the ai SDK loaded with a dynamic import() is rebound too: the call site is the application's", async () => {
  const out = await run(
    { AIGUARD_MODE: "report", AIGUARD_SINKS: "memory" },
    "tests/support/preload_ai_dynamic_app.ts",
  );
  assert.match(
    String(out.call_site),
    /^tests\/support\/preload_ai_dynamic_app\.ts:14:\d+$/,
    JSON.stringify(out),
  );
  assert.equal(out.name, "generateText");
});

test("SDKs with CommonJS entries (cohere-ai, the Bedrock client) are patched when imported, Bun too", async () => {
  const out = await run(
    { AIGUARD_MODE: "report", AIGUARD_SINKS: "memory" },
    "tests/support/preload_cjs_sdks_app.ts",
  ) as unknown as { provider: string; detector: string; call_site: string }[];
  assert.deepEqual(out.map((r) => [r.provider, r.detector]), [["cohere", "sdk"], [
    "aws.bedrock",
    "sdk",
  ]]);
  assert.match(out[0]!.call_site, /^tests\/support\/preload_cjs_sdks_app\.ts:13:\d+$/);
  assert.match(out[1]!.call_site, /^tests\/support\/preload_cjs_sdks_app\.ts:19:\d+$/);
});

test("an SDK entry that declares an AI function as a constant loads as it does without the preload", async () => {
  // The ai SDK declares some exports `const` (`experimental_transcribe`); a later version may do so
  // for any of the functions the preload rebinds. Such an entry must load unchanged everywhere
  // (Bun's rebinding assigns inside the entry, and an assignment to a constant fails its load).
  const { mkdtempSync, mkdirSync, writeFileSync, realpathSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join, resolve } = await import("node:path");
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "aiguard-const-entry-")));
  mkdirSync(join(dir, "node_modules", "ai"), { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ type: "module", dependencies: { ai: "*" } }),
  );
  writeFileSync(
    join(dir, "node_modules", "ai", "package.json"),
    JSON.stringify({ name: "ai", version: "0.0.0", type: "module", main: "index.js" }),
  );
  writeFileSync(
    join(dir, "node_modules", "ai", "index.js"),
    'async function generateText() { return "text"; }\n' +
      'const streamText = () => "stream";\n' +
      "let embed = () => 'embed';\n" +
      "export { generateText, streamText, embed };\n",
  );
  writeFileSync(
    join(dir, "app.mjs"),
    'import * as ai from "ai";\n' +
      "console.log(JSON.stringify({ keys: Object.keys(ai).sort(), " +
      "text: await ai.generateText(), stream: ai.streamText(), embed: ai.embed(), " +
      "names: [ai.generateText.name, ai.streamText.name, ai.embed.name] }));\n",
  );
  const exec = (globalThis as { Deno?: { execPath(): string } }).Deno?.execPath() ??
    process.execPath;
  const auto = resolve("auto.ts");
  const start = (preload: boolean): Promise<string> => {
    const args = runtime === "deno"
      ? ["run", "-A", ...(preload ? ["--preload", auto] : []), "app.mjs"]
      : [...(preload ? [runtime === "bun" ? "--preload" : "--import", auto] : []), "app.mjs"];
    return new Promise((done, fail) =>
      execFile(
        exec,
        args,
        { cwd: dir, env: { ...process.env, AIGUARD_MODE: "report", AIGUARD_SINKS: "memory" } },
        (error, stdout, stderr) =>
          error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout.trim()),
      )
    );
  };
  const plain = await start(false);
  assert.deepEqual(JSON.parse(plain).names, ["generateText", "streamText", "embed"]);
  assert.equal(await start(true), plain);
});
