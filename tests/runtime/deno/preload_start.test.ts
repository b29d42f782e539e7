// What Deno's preload does before the app's first line: no read of a lazy part of the Deno
// namespace (`Deno.kill`'s first read loads Deno's process API, milliseconds at start), while the
// guard's wrapper of it is in place once the app reads it.
import { test } from "node:test";
import assert from "node:assert/strict";

const AUTO = new URL("../../../auto.ts", import.meta.url).pathname;

test("the preload leaves Deno.kill unread at start, and the app reads the guard's kill", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aiguard-start-" });
  try {
    // Runs before the guard's preload: counts reads of the runtime's lazy getter.
    const spy = `${dir}/spy.mjs`;
    await Deno.writeTextFile(
      spy,
      `const was = Object.getOwnPropertyDescriptor(Deno, "kill");
globalThis.killReads = 0;
globalThis.runtimeKill = undefined;
Object.defineProperty(Deno, "kill", {
  get() { globalThis.killReads++; return globalThis.runtimeKill ??= was.get.call(Deno); },
  set: was.set,
  enumerable: was.enumerable,
  configurable: true,
});
`,
    );
    const app = `${dir}/app.mjs`;
    await Deno.writeTextFile(
      app,
      `const atStart = globalThis.killReads;
const kill = Deno.kill;
console.log(JSON.stringify({
  atStart,
  isFunction: typeof kill === "function",
  wrapped: kill !== globalThis.runtimeKill,
  sameLength: kill.length === globalThis.runtimeKill.length,
  same: Deno.kill === kill,
}));
`,
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--preload", spy, "--preload", AUTO, app],
      env: {
        HOME: dir,
        AIGUARD_MODE: "report",
        AIGUARD_REPORT_PATH: `${dir}/guard_log.jsonl`,
        AIGUARD_SOCKET: `${dir}/none.sock`,
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout).trim()), {
      atStart: 0,
      isFunction: true,
      wrapped: true,
      sameLength: true,
      same: true,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const mode of ["report", "block"] as const) {
  test(`under the preload, a record made just before Deno.exit() is in the report (${mode} mode)`, async () => {
    // The file storage loads with the first record, synchronously on an exit path: Deno's
    // require() of an ES module could not, while the preload's resolve hook was registered.
    const dir = await Deno.makeTempDir({ prefix: "aiguard-start-" });
    try {
      const app = `${dir}/app.mjs`;
      await Deno.writeTextFile(
        app,
        `try {
  await fetch("http://127.0.0.1:9/v1/chat/completions", { method: "POST", body: "{}" });
} catch (error) {
  console.log(error.name);
}
Deno.exit(7);
`,
      );
      const reportPath = `${dir}/guard_log.jsonl`;
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--preload", AUTO, app],
        env: {
          HOME: dir,
          AIGUARD_MODE: mode,
          AIGUARD_REPORT_PATH: reportPath,
          AIGUARD_SOCKET: `${dir}/none.sock`,
          NO_COLOR: "1",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(stderr), "");
      assert.equal(code, 7);
      assert.equal(
        new TextDecoder().decode(stdout).trim(),
        mode === "block" ? "AttestationError" : "TypeError",
      );
      const records = (await Deno.readTextFile(reportPath)).trim().split("\n")
        .map((line) => JSON.parse(line)).filter((r) => r.event === "ai_call");
      assert.deepEqual(records.map((r) => r.action), [mode === "block" ? "blocked" : "reported"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
