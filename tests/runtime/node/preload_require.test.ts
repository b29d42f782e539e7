/**
 * `node --require @aiguard/attest/auto`: the same preload, for runners that run their target
 * through `Module.runMain()` with their own `require.extensions` handler (ts-node). Any `--import`
 * makes Node load the main module through its ESM loader, past such a handler; `--require` does not.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";

function node(args: string[]): Promise<Record<string, unknown>> {
  const env = { ...process.env, AIGUARD_MODE: "report", AIGUARD_SINKS: "memory" };
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { env }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split("\n").at(-1)!));
    })
  );
}

test("node --require: a runner's own require.extensions handler still compiles its main module", async () => {
  const runner = "tests/fixtures/preload/run_main.cjs";
  assert.deepEqual(await node([runner]), { compiledBy: "runner", guarded: false });
  assert.deepEqual(await node(["--require", "./auto.ts", runner]), {
    compiledBy: "runner",
    guarded: true,
  });
});

test("node --require: the preload patches the SDK the app loads", async () => {
  const out = await node(["--require", "./auto.ts", "tests/support/preload_app.ts"]);
  assert.equal(out.detector, "sdk", JSON.stringify(out));
  assert.match(String(out.call_site), /^tests\/support\/preload_app\.ts:11:\d+$/);
});
