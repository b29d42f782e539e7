// @runtimes deno bun node
/**
 * Do no harm at load: every package in this repository's `node_modules`, and a few module shapes
 * known to trip module hooks, load the same with and without the preload, through `import()` and
 * `require()`, and every export keeps its type (and a function its name and arity).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { currentRuntime, importMatrix } from "./support/import_matrix.ts";

test("every installed package loads the same, with the same exports, with and without the preload", async () => {
  const result = await importMatrix(currentRuntime());
  assert.ok(result.unguarded && result.guarded, "the preload's guard is live in its runs only");
  assert.ok(result.loaded > 500, `most of the ${result.loads} loads succeed (${result.loaded})`);
  assert.deepEqual(result.differences, [], `${result.loaded} of ${result.loads} loads`);
});
