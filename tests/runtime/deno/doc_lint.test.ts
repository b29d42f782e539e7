/**
 * Every public entry (the `exports` of deno.json) has its module doc, and `deno doc --lint` finds
 * nothing to say of the public API: each exported symbol documented, no public type that names a
 * private one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";

const root = new URL("../../../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))) as {
  exports: Record<string, string>;
};
const entries = Object.values(config.exports);

async function deno(...args: string[]): Promise<{ code: number; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, out: text.decode(stdout) + text.decode(stderr) };
}

test("deno doc --lint passes on every public entry", async () => {
  assert.ok(entries.length >= 10, entries.join(" "));
  const { code, out } = await deno("doc", "--lint", ...entries);
  assert.equal(code, 0, out);
});

test("every public entry has a module doc (@module)", async () => {
  for (const entry of entries) {
    const { code, out } = await deno("doc", "--json", entry);
    assert.equal(code, 0, out);
    const nodes = (JSON.parse(out) as { nodes: Record<string, { module_doc?: { doc?: string } }> })
      .nodes;
    const own = nodes[new URL(entry, root).href];
    assert.ok(own?.module_doc?.doc, `${entry} has no module doc`);
  }
});
