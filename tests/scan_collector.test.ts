// @runtimes deno bun node
/**
 * What `aiguard scan` asks of the runtime's collector stays its own: on V8 it takes a `gc` of its
 * own context, and the host's new contexts are left without one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { COLLECT_EVERY, scan } from "../src/scan/scan.ts";

test("scan: collecting while it parses leaves no gc to the host's contexts, and the same sites", async () => {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-collector-"));
  try {
    const before = runInNewContext("typeof gc");
    // More source parsed than one collection's worth: the scan collects at least once.
    const padding = `// ${"padding ".repeat(60)}\n`.repeat(Math.ceil(COLLECT_EVERY / 500 / 4));
    for (let i = 0; i < 5; i++) {
      await writeFile(
        join(dir, `call_${i}.ts`),
        `${padding}export const call${i} = () => fetch("https://api.openai.com/v1/chat/completions", { method: "POST" });\n`,
      );
    }
    const result = await scan({ cwd: dir });
    assert.equal(result.parsed, 5);
    assert.deepEqual(result.sites.map((s) => [s.file, s.provider]), [
      ["call_0.ts", "openai"],
      ["call_1.ts", "openai"],
      ["call_2.ts", "openai"],
      ["call_3.ts", "openai"],
      ["call_4.ts", "openai"],
    ]);
    assert.equal(runInNewContext("typeof gc"), before);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
