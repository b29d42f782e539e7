import { test } from "node:test";
import assert from "node:assert/strict";

test("Deno without --allow-write falls back to stderr with one warning, never a crash, nothing on stdout", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aiguard-perm-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-read",
        "--allow-env",
        new URL("../../support/guarded_child.ts", import.meta.url).pathname,
      ],
      env: {
        AIGUARD_MODE: "report",
        AIGUARD_REPORT_PATH: `${dir}/guard_log.jsonl`,
        AIGUARD_SOCKET: `${dir}/none.sock`,
        AIGUARD_CHILD_CALLS: "3",
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
    });
    const { code, stdout, stderr } = await child.output();
    const out = new TextDecoder().decode(stdout);
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, err);
    assert.equal(out, "");
    const records = err.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    assert.deepEqual(records.map((r) => r.model), ["child-0", "child-1", "child-2"]);
    assert.equal(err.match(/records now go to stderr/g)?.length, 1, err);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
