/**
 * The README's main command: `npm run demo` runs examples/demo/main.ts on Node. It must show the
 * calls by call site, the CI gate failing on them, the report's chain intact, and an edited copy
 * named where it breaks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";

function runDemo(): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["examples/demo/main.ts"],
      { timeout: 60_000, env: { ...process.env, NODE_NO_WARNINGS: "1" } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, out: stdout + stderr });
      },
    );
  });
}

test("the demo: calls by site, the gate fails on them, the chain verifies, an edit is named", async () => {
  const { code, out } = await runDemo();
  assert.equal(code, 0, out);
  assert.match(out, /aiguard demo: 5 AI calls, 4 unattested/);
  assert.match(
    out,
    /examples\/demo\/main\.ts:\d+:\d+\n {2}2 × openai chat \(openai\.chat\.completions\.create\) model gpt-4o-mini/,
  );
  assert.match(out, /1 × anthropic chat \(anthropic\.messages\.create\) model claude-haiku-4-5/);
  assert.match(out, /1 × openai embeddings \(openai\.embeddings\.create\)/);
  assert.match(out, /4 unattested AI calls at 3 call sites[\s\S]*\(exit 1\)/);
  // The chain_start head line, then the 4 records; without --key verify says what is unprotected.
  assert.match(
    out,
    /aiguard verify: intact, 5 chained lines, seq 1–5 in 1 file\n {2}aiguard verify: without --key the head and the tail are unprotected[^\n]*\n {2}\(exit 0\)/,
  );
  assert.match(
    out,
    /BROKEN at \$REPORT_DIR\/edited\.jsonl:2: seq 2: edited \(its hash is not the prev of seq 3\)/,
  );
  // The demo's temporary directory is named in no line: its report paths print as $REPORT_DIR.
  assert.doesNotMatch(out, /aiguard-demo-/);
});
