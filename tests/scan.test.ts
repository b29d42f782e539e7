// @runtimes deno bun node
/**
 * `aiguard scan` on a corpus with every form the scan follows, positives and negatives: each
 * expected site is marked on its line (`// expect: <target> <attested|unattested> [id=…] [low]`);
 * a line without a marker must give no site.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { scan, type ScanSite } from "../src/scan/scan.ts";
import { cliIn } from "./support/cli_in.ts";

const CORPUS = new URL("./fixtures/scan/", import.meta.url).pathname;
let dir: string;

before(async () => {
  // A copy, with what the default excludes must skip (node_modules is not committed).
  dir = await mkdtemp(join(tmpdir(), "aiguard-scan-"));
  await cp(CORPUS, dir, { recursive: true });
  const call = 'import OpenAI from "openai";\nawait new OpenAI().chat.completions.create({});\n';
  for (const skipped of ["node_modules/pkg", "dist", "build", "out", "coverage", ".git"]) {
    await mkdir(join(dir, skipped), { recursive: true });
    await writeFile(join(dir, skipped, "index.ts"), call);
  }
});
after(() => rm(dir, { recursive: true, force: true }));

interface Expected {
  file: string;
  line: number;
  target: string;
  attested: boolean;
  attestation: string | null;
  confidence: "high" | "low";
}

async function expectations(root: string): Promise<Expected[]> {
  const out: Expected[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "generated") await walk(path);
        continue;
      }
      const lines = (await readFile(path, "utf8")).split("\n");
      lines.forEach((text, i) => {
        const m = /\/\/ expect: (.+?) (attested|unattested)(?: id=(\S+))?( low)?\s*$/.exec(text);
        if (!m) return;
        out.push({
          file: relative(root, path).split("\\").join("/"),
          line: i + 1,
          target: m[1]!,
          attested: m[2] === "attested",
          attestation: m[3] ?? null,
          confidence: m[4] ? "low" : "high",
        });
      });
    }
  };
  await walk(root);
  return out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

const shape = (s: ScanSite | Expected) => ({
  file: s.file,
  line: s.line,
  target: s.target,
  attested: s.attested,
  attestation: s.attestation,
  confidence: s.confidence,
});

test("scan finds exactly the marked sites of the corpus, attested or not, and nothing else", async () => {
  const result = await scan({ cwd: dir });
  const expected = await expectations(dir);
  assert.ok(expected.length >= 40, `${expected.length} marked sites`);
  assert.deepEqual(result.sites.map(shape), expected.map(shape));
  assert.deepEqual(result.errors.map((e) => e.file), ["broken.ts"]);
  assert.match(result.errors[0]!.message, /\S/);
  // Providers and columns: where each call expression starts.
  const first = result.sites.find((s) => s.file === "imports.ts")!;
  assert.equal(first.provider, "openai");
  assert.equal(first.library, "openai");
  assert.equal(first.column, 9);
  const bedrock = result.sites.find((s) => s.target === "bedrock.converse")!;
  assert.equal(bedrock.provider, "aws.bedrock");
  assert.equal(
    result.sites.find((s) => s.target.startsWith("azure_openai"))!.provider,
    "azure.ai.openai",
  );
});

test("default excludes and .gitignore are honoured; --include and --exclude narrow the scan", async () => {
  const result = await scan({ cwd: dir });
  const files = new Set(result.sites.map((s) => s.file.split("/")[0]));
  for (const skipped of ["node_modules", "dist", "build", "out", "coverage", ".git", "generated"]) {
    assert.equal(files.has(skipped), false, skipped);
  }
  const only = await scan({ cwd: dir, include: ["**/*.tsx"] });
  assert.deepEqual([...new Set(only.sites.map((s) => s.file))], ["component.tsx"]);
  const without = await scan({ cwd: dir, exclude: ["sdks.ts", "shared/**"] });
  assert.equal(without.sites.some((s) => s.file === "sdks.ts"), false);
});

const cli = (...argv: string[]) => cliIn(dir, ...argv);

test("aiguard scan: json, table, sarif; --strict fails on high-confidence unattested sites", async () => {
  const json = await cli("scan", "--format", "json");
  assert.equal(json.code, 0);
  const parsed = JSON.parse(json.out);
  assert.equal(parsed.v, 1);
  assert.equal(typeof parsed.files, "number");
  assert.deepEqual(Object.keys(parsed.sites[0]).sort(), [
    "attestation",
    "attested",
    "column",
    "confidence",
    "file",
    "library",
    "line",
    "operation",
    "provider",
    "target",
  ]);
  const table = await cli("scan");
  assert.match(
    table.out,
    /imports\.ts:15:9\s+UNATTESTED\s+openai\s+openai\.chat\.completions\.create/,
  );
  assert.match(table.out, /\d+ unattested · \d+ attested · \d+% coverage/);
  const sarif = JSON.parse((await cli("scan", "--format", "sarif")).out);
  assert.equal(sarif.version, "2.1.0");
  assert.ok(sarif.runs[0].results.length > 0);
  const strict = await cli("scan", "--strict", "--format", "json");
  assert.equal(strict.code, 1);
  const reviewedOnly = await cli("scan", "attested.ts", "--strict", "--exclude", "nothing");
  assert.equal(reviewedOnly.code, 1, "attested.ts has one unreviewed method");
  const clean = await cli("scan", "lookalikes.ts", "--strict");
  assert.equal(clean.code, 0);
  assert.match(clean.out, /0 unattested · 0 attested/);
});

test("aiguard scan on this repository's examples finds exactly their AI calls", async () => {
  const cwd = process.cwd();
  // With this package's own files in the scan too: a relative import of it is still its attest().
  const result = await scan({ cwd, paths: ["examples", "mod.ts", "src/attest.ts"] });
  // Each example's AI calls, found by the text of the call's line.
  const expected: Array<[file: string, snippet: string, target: string, status: string]> = [
    [
      "examples/bun/app.ts",
      "openai.chat.completions.create(",
      "openai.chat.completions.create",
      "bun-example",
    ],
    [
      "examples/cloudflare-worker/src/worker.ts",
      'fetch("https://api.openai.com',
      "fetch POST api.openai.com/v1/chat/completions",
      "worker-chat",
    ],
    [
      "examples/demo/main.ts",
      "openai.chat.completions.create(",
      "openai.chat.completions.create",
      "summarize-v1",
    ],
    [
      "examples/demo/main.ts",
      "anthropic.messages.create(",
      "anthropic.messages.create",
      "unattested",
    ],
    [
      "examples/demo/main.ts",
      "openai.embeddings.create(",
      "openai.embeddings.create",
      "unattested",
    ],
    [
      "examples/deno-deploy/main.ts",
      "fetch(`${baseUrl}",
      // `baseUrl` is an env override or the provider's URL: the provider is known.
      "fetch POST api.openai.com/v1/chat/completions",
      "deploy-chat",
    ],
    [
      "examples/deno/main.ts",
      "openai.chat.completions.create(",
      "openai.chat.completions.create",
      "deno-example",
    ],
    [
      "examples/lint/src/app.ts",
      'model: "gpt-4o-mini"',
      "openai.chat.completions.create",
      "summarize-v1",
    ],
    [
      "examples/lint/src/app.ts",
      'model: "gpt-4o",',
      "openai.chat.completions.create",
      "unattested",
    ],
    [
      "examples/node/app.mjs",
      "openai.chat.completions.create(",
      "openai.chat.completions.create",
      "node-example",
    ],
  ];
  const wanted = [];
  for (const [file, snippet, target, status] of expected) {
    const lines = (await readFile(join(cwd, file), "utf8")).split("\n");
    lines.forEach((text, i) => {
      // The site is the line of the call expression: the snippet's line, or the one above it
      // when the snippet is an argument on a line of its own.
      if (!text.includes(snippet)) return;
      const line = text.includes("(") ? i + 1 : i;
      wanted.push(`${file}:${line} ${target} ${status}`);
    });
  }
  const found = result.sites.map((s) =>
    `${s.file}:${s.line} ${s.target} ${s.attested ? s.attestation : "unattested"}`
  );
  assert.deepEqual(found, wanted);
  assert.deepEqual(result.errors, []);
});

test("scan: a file longer than maxFileLength is listed in errors, not parsed, its lines counted", async () => {
  const root = await mkdtemp(join(tmpdir(), "aiguard-scan-long-"));
  try {
    const call = 'import OpenAI from "openai";\nawait new OpenAI().chat.completions.create({});\n';
    await writeFile(join(root, "app.ts"), call);
    await writeFile(join(root, "bundle.js"), `${"// generated\n".repeat(40)}${call}`);
    const result = await scan({ cwd: root, maxFileLength: 400 });
    assert.deepEqual(result.sites.map((s) => s.file), ["app.ts"]);
    assert.equal(result.lines, 3 + 43);
    assert.equal(result.errors.length, 1);
    assert.equal(result.errors[0]!.file, "bundle.js");
    assert.match(result.errors[0]!.message, /^597 characters, over the 400 /);
    // The default is large enough for any hand-written file.
    assert.equal((await scan({ cwd: root })).sites.length, 2);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("the lint analysis of one file follows an abstract method to its overrides in that file", async () => {
  const { parseSync } = await import("oxc-parser");
  const { lintProblems } = await import("../src/scan/analyze.ts");
  const file = join(CORPUS, "flow/dispatch/local_engine.ts");
  const source = await readFile(file, "utf8");
  const problems = lintProblems(parseSync(file, source).program as never, source);
  const line = (offset: number) => source.slice(0, offset).split("\n").length;
  assert.deepEqual(
    problems.map((p) => `${line(p.node.start as number)} ${p.target}`),
    [`${
      source.split("\n").findIndex((l) => l.includes("// expect:")) + 1
    } openai.chat.completions.create`],
  );
  // The base class alone: nothing overrides its abstract method, so nothing is reported.
  const base = source.slice(0, source.indexOf("export class OpenAISummarizer"));
  assert.deepEqual(lintProblems(parseSync(file, base).program as never, base), []);
});

test("scan: Electron page code naming no request function is read once a preload script exposes the API it calls", async () => {
  const root = await mkdtemp(join(tmpdir(), "aiguard-scan-electron-"));
  try {
    await mkdir(join(root, "src/renderer"), { recursive: true });
    await writeFile(
      join(root, "src/preload.js"),
      'const { contextBridge, ipcRenderer } = require("electron");\n' +
        'const { HTTP } = require("./channels.js");\n' +
        'contextBridge.exposeInMainWorld("bridge", { send: (o) => ipcRenderer.invoke(HTTP, o) });\n',
    );
    await writeFile(
      join(root, "src/main.js"),
      'const electron = require("electron");\n' +
        'import { HTTP } from "./channels.js";\n' +
        "electron.ipcMain.handle(HTTP, (event, o) => fetch(o.url, { method: o.method, body: o.body }));\n",
    );
    // The channel, a constant of a module nothing else makes the scan read.
    await writeFile(join(root, "src/channels.js"), 'export const HTTP = "http";\n');
    // Neither page module names a request function, an SDK or an HTTP client, and nothing the scan
    // parses imports them: only their use of `window.bridge` makes them read.
    await writeFile(
      join(root, "src/renderer/transport.js"),
      "export const post = (url, body) => window.bridge.send({ url, method: 'POST', body });\n",
    );
    await writeFile(
      join(root, "src/renderer/chat.js"),
      'import { post } from "./transport.js";\n' +
        "export const ask = (base, body) => post(`${base}/v1/chat/completions`, body);\n" +
        "export const embed = (base, body) => post(`${base}/v1/embeddings`, body);\n" +
        'export const save = (body) => window.storage.send({ url: "https://api.openai.com/v1/chat/completions", body });\n',
    );
    const result = await scan({ cwd: root });
    assert.deepEqual(result.errors, []);
    assert.deepEqual(
      result.sites.map((s) => `${s.file}:${s.line} ${s.target} ${s.confidence}`),
      [
        "src/renderer/chat.js:2 fetch POST /v1/chat/completions low",
        "src/renderer/chat.js:3 fetch POST /v1/embeddings low",
      ],
    );
    assert.equal(result.parsed, 5);
    // Without the preload script, nothing is exposed: the page code stays unread.
    await rm(join(root, "src/preload.js"));
    const alone = await scan({ cwd: root });
    assert.deepEqual(alone.sites, []);
    assert.equal(alone.parsed, 2); // main.js and its channel's module
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
