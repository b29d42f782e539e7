// @runtimes deno bun node
/**
 * Which files `aiguard scan` parses: those that may start an AI call chain, and what the import
 * graph needs of the rest (the importers of a module that carries calls, a module whose constant a
 * call's URL uses). A file that can neither hold a site nor give one a value is not parsed.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importSpecifiers, mayStartCall } from "../src/scan/relevance.ts";
import { scan } from "../src/scan/scan.ts";

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "aiguard-relevance-"));
  const files: Record<string, string> = {
    "constants.ts": 'export const BASE = "https://api.groq.com/openai";\n',
    "request.ts": "export async function request(url: string) {\n" +
      "  return await fetch(url, { method: 'POST' });\n}\n",
    "caller.ts":
      'import { request } from "./request.ts";\nimport { BASE } from "./constants.ts";\n' +
      "export const chat = () => request(`${BASE}/v1/chat/completions`);\n",
    // Imports only a constant and calls nothing that sends: never parsed.
    "banner.ts":
      'import { BASE } from "./constants.ts";\nexport const banner = () => BASE.toUpperCase();\n',
    "readme.ts": "export const text = 'nothing here';\n",
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
});
after(() => rm(dir, { recursive: true, force: true }));

test("importSpecifiers reads static, dynamic and CommonJS imports and re-exports", () => {
  const source = 'import a from "a";\nimport "side";\nexport * from "./b.ts";\n' +
    'const c = require("c");\nconst d = await import(\'./d.js\');\nimport type { T } from "t";\n';
  assert.deepEqual(importSpecifiers(source), ["a", "side", "./b.ts", "c", "./d.js", "t"]);
});

test("mayStartCall: fetch, an HTTP client or SDK package, or a method path only an SDK has", () => {
  const yes = [
    "await fetch(url)",
    'import axios from "axios";',
    'const { OpenAI } = require("openai");',
    'import { generateText } from "ai";',
    "await client.chat.completions.create({})",
  ];
  for (const source of yes) {
    assert.equal(mayStartCall(source, importSpecifiers(source)), true, source);
  }
  const no = [
    'import { z } from "zod";\nz.string();',
    "export const x = 1;",
    'import "./openai.css";',
  ];
  for (const source of no) {
    assert.equal(mayStartCall(source, importSpecifiers(source)), false, source);
  }
});

test("scan parses the files that may start a call and what the import graph needs, no more", async () => {
  const result = await scan({ cwd: dir });
  assert.equal(result.files, 5);
  assert.deepEqual(
    result.sites.map((s) => [s.file, s.line, s.target]),
    [["caller.ts", 3, "fetch POST api.groq.com/openai/v1/chat/completions"]],
  );
  // request.ts (fetch), caller.ts (imports it), constants.ts (the URL needs it); not banner.ts
  // nor readme.ts.
  assert.equal(result.parsed, 3);
});
