/**
 * The preload on the current Node 22 and 26 releases too (the `node22` / `node26` devDependencies,
 * aliases of the `node` package): the import matrix finds no difference, and every preload case
 * (SDKs imported, required, CommonJS-only, the ai SDK loaded dynamically) passes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { importMatrix } from "../../support/import_matrix.ts";

const root = join(import.meta.dirname!, "..", "..", "..");

for (const alias of ["node22", "node26"]) {
  const exec = join(root, "node_modules", alias, "bin", "node");

  test(`${alias}: every case of tests/preload.test.ts passes`, async () => {
    // The file's children run on the Node running it: each SDK app, with import and require.
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        exec,
        ["--test", "--test-reporter=tap", "tests/preload.test.ts"],
        // Its own run, not a subtest of this one (the runner hands NODE_TEST_CONTEXT down).
        {
          cwd: root,
          env: Object.fromEntries(
            Object.entries(process.env).filter(([k]) => k !== "NODE_TEST_CONTEXT"),
          ),
        },
        (error, stdout) =>
          error ? reject(new Error(`${error.message}\n${stdout}`)) : resolve(stdout),
      )
    );
    assert.match(out, /^# pass [1-9]\d*$/m, out);
    assert.match(out, /^# fail 0$/m, out);
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
