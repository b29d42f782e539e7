/**
 * The ESLint plugin with real ESLint: RuleTester cases, the flat config, and the same sites as
 * `aiguard scan` on every corpus file.
 */
import { describe, it, test } from "node:test";
import assert from "node:assert/strict";
import { ESLint, Linter, RuleTester } from "eslint";
import tsParser from "@typescript-eslint/parser";
import plugin from "../../../eslint.ts";
import { lintCorpus } from "../../support/lint_corpus.ts";

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const tester = new RuleTester({
  languageOptions: { parser: tsParser, ecmaVersion: "latest", sourceType: "module" },
});

tester.run("aiguard/no-unattested-ai-call", plugin.rules["no-unattested-ai-call"]! as never, {
  valid: [
    `import OpenAI from "openai";
     import { attest } from "@aiguard/attest";
     const c = new OpenAI();
     export const f = attest(() => c.chat.completions.create({ model: "m", messages: [] }));`,
    `import { wrap } from "@aiguard/attest";
     import OpenAI from "openai";
     const safe = wrap(new OpenAI());
     await safe.embeddings.create({ model: "e", input: "x" });`,
    `const openai = { chat: { completions: { create: () => 1 } } };
     openai.chat.completions.create();`,
    `await fetch("https://example.com/api");`,
  ],
  invalid: [
    {
      code: `import OpenAI from "openai";
const c = new OpenAI();
await c.chat.completions.create({ model: "m", messages: [] });`,
      errors: [{
        messageId: "unattested",
        line: 3,
        column: 7,
        data: { provider: "openai", target: "openai.chat.completions.create" },
      }],
    },
    {
      code: `import { generateText } from "ai";
export const go = (model: never) => generateText({ model, prompt: "x" });`,
      errors: [{
        messageId: "unattested",
        data: { provider: "vercel.ai", target: "ai.generateText" },
      }],
    },
  ],
});

test("the plugin has the flat-config shape: meta, rules, configs.recommended", () => {
  assert.equal(plugin.meta.namespace, "aiguard");
  assert.equal(plugin.meta.name, "@aiguard/attest");
  assert.deepEqual(plugin.configs.recommended!.rules, { "aiguard/no-unattested-ai-call": "error" });
  assert.equal(plugin.configs.recommended!.plugins.aiguard, plugin);
});

test("ESLint with configs.recommended reports the same sites as aiguard scan on every corpus file", async () => {
  const linter = new Linter();
  const config = [
    {
      files: ["**/*.{ts,tsx,js,jsx,mjs,cjs}"],
      languageOptions: {
        parser: tsParser,
        parserOptions: { ecmaFeatures: { jsx: true } },
      },
    },
    { files: ["**/*.cjs"], languageOptions: { sourceType: "commonjs" as const } },
    plugin.configs.recommended,
  ];
  const files = await lintCorpus();
  assert.ok(files.length >= 10);
  for (const file of files) {
    const messages = linter.verify(file.source, config as never, { filename: file.path });
    const fatal = messages.filter((m) => m.fatal);
    assert.deepEqual(fatal, [], file.name);
    const reported = messages.filter((m) => m.ruleId === "aiguard/no-unattested-ai-call").map((
      m,
    ) => `${m.line}:${m.column}`);
    assert.deepEqual(reported, file.expected, file.name);
  }
});

test("examples/lint: ESLint with the example's own eslint.config.mjs reports the unreviewed call", async () => {
  const eslint = new ESLint({ cwd: new URL("../../../examples/lint/", import.meta.url).pathname });
  const [result] = await eslint.lintFiles(["src/app.ts"]);
  const problems = result!.messages.map((m) => `${m.ruleId} ${m.line}`);
  assert.deepEqual(problems, ["aiguard/no-unattested-ai-call 18"]);
});
