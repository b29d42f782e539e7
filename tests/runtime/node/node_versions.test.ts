/**
 * The preload on the current Node 22 and 26 releases too (the `node22` / `node26` devDependencies,
 * aliases of the `node` package): the import matrix finds no difference, and the SDK the app loads
 * is patched with the application's call site.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { importMatrix } from "../../support/import_matrix.ts";

const root = join(import.meta.dirname!, "..", "..", "..");

for (const alias of ["node22", "node26"]) {
  const exec = join(root, "node_modules", alias, "bin", "node");

  test(`${alias}: the preload patches the SDK the app loads`, async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        exec,
        ["--import", "./auto.ts", "tests/support/preload_app.ts"],
        { cwd: root, env: { ...process.env, AIGUARD_MODE: "report", AIGUARD_SINKS: "memory" } },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      )
    );
    const record = JSON.parse(out.trim().split("\n").at(-1)!);
    assert.equal(record.detector, "sdk", out);
    assert.match(String(record.call_site), /^tests\/support\/preload_app\.ts:11:\d+$/);
  });

  test(`${alias}: every installed package loads the same with and without the preload`, async () => {
    const result = await importMatrix({
      exec,
      args: (preload) => preload ? ["--import", "./auto.ts"] : [],
    });
    assert.ok(result.unguarded && result.guarded, "the preload's guard is live in its runs only");
    assert.ok(result.loaded > 500, `most of the ${result.loads} loads succeed (${result.loaded})`);
    assert.deepEqual(result.differences, [], `${result.loaded} of ${result.loads} loads`);
  });
}
