/**
 * The Deno lint plugin through Deno's own linter (`Deno.lint.runPlugin`): the same sites as
 * `aiguard scan` on every corpus file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import plugin from "../../../lint.ts";
import { lineColumn, lintCorpus } from "../../support/lint_corpus.ts";

interface Diagnostic {
  id: string;
  message: string;
  range: [number, number];
}

const runPlugin = (Deno as unknown as {
  lint: { runPlugin(p: unknown, file: string, source: string): Diagnostic[] };
}).lint.runPlugin;

test("Deno lint reports the same sites as aiguard scan on every corpus file", async () => {
  const files = await lintCorpus();
  assert.ok(files.length >= 10);
  for (const file of files) {
    // Deno's linter parses by extension; CommonJS is plain JavaScript to it.
    const diagnostics = runPlugin(plugin, file.path.replace(/\.cjs$/, ".js"), file.source);
    assert.ok(diagnostics.every((d) => d.id === "aiguard/no-unattested-ai-call"));
    assert.deepEqual(
      diagnostics.map((d) => lineColumn(file.source, d.range[0])),
      file.expected,
      file.name,
    );
  }
});

test("the Deno lint message names the provider, the target and the fix", () => {
  const [d] = runPlugin(
    plugin,
    "a.ts",
    'import OpenAI from "openai";\nawait new OpenAI().embeddings.create({ model: "e", input: "x" });\n',
  );
  assert.match(
    d!.message,
    /Unattested openai call \(openai\.embeddings\.create\): wrap the calling function with attest\(\)/,
  );
});

test("examples/lint: deno lint with the example's deno.json reports the unreviewed call", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["lint", "src/app.ts"],
    cwd: new URL("../../../examples/lint/", import.meta.url).pathname,
    env: { NO_COLOR: "1" },
  }).output();
  const text = (new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr))
    .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
  assert.equal(output.code, 1, text);
  assert.match(text, /aiguard\/no-unattested-ai-call/);
  assert.match(text, /src\/app\.ts:18:10/);
  assert.match(text, /Found 1 problem/);
});
