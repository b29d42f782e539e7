// @runtimes deno bun node
/**
 * A report path the guard cannot write, now or on any retry (a FIFO there, a file where its
 * directory must be): the records go to stderr with one warning, also when the exit path writes
 * them, and the app's stdout stays exactly what the app printed (report mode prints nothing).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startMockAiServer } from "../support/mock_ai_server.ts";
import { runtimeCommand } from "../support/runtime_command.ts";

/**
 * Runs `app` guarded in report mode into the file sink at `reportPath` (HOME `dir`), with `env`
 * beside; resolves with its exit code, stdout and stderr.
 */
function run(
  dir: string,
  reportPath: string,
  env: Record<string, string>,
  app = "tests/support/guarded_child.ts",
): Promise<{ code: number | null; out: string; err: string }> {
  const [cmd, args] = runtimeCommand(resolve(app), []);
  const guarded = {
    HOME: dir,
    AIGUARD_MODE: "report",
    AIGUARD_SINKS: "file",
    AIGUARD_REPORT_PATH: reportPath,
  };
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, NO_COLOR: "1", ...guarded, ...env },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", fail);
    child.on("close", (code) => done({ code, out, err }));
  });
}

/** The records a run printed on stderr (its JSON lines). */
const recordsIn = (err: string) =>
  err.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));

const unwritable: Array<{ name: string; make(dir: string): Promise<string> }> = [
  {
    name: "a FIFO at the report path",
    make: (dir) => {
      const path = join(dir, "guard_log.jsonl");
      spawnSync("mkfifo", ["-m", "600", path]);
      return Promise.resolve(path);
    },
  },
  {
    name: "a file where the report's directory must be",
    make: async (dir) => {
      await writeFile(join(dir, "reports"), "");
      return join(dir, "reports", "guard_log.jsonl");
    },
  },
];

for (const { name, make } of unwritable) {
  for (const exit of ["flush", "normal"]) {
    const how = exit === "normal" ? "left to the exit path" : "flushed";
    test(`${name}, ${how}: records on stderr with one warning, the app's stdout untouched`, async () => {
      const dir = await mkdtemp(join(tmpdir(), "aiguard-unwritable-"));
      try {
        const { code, out, err } = await run(dir, await make(dir), {
          AIGUARD_CHILD_CALLS: "3",
          AIGUARD_CHILD_EXIT: exit,
        });
        assert.equal(code, 0, err);
        assert.equal(out, "");
        assert.deepEqual(recordsIn(err).map((r) => r.model), ["child-0", "child-1", "child-2"]);
        assert.equal(err.match(/records now go to stderr/g)?.length, 1, err);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
}

test("a FIFO at the report path, process.exit() in the tick of the last call: the exit path writes the records to stderr", async () => {
  const server = await startMockAiServer();
  const dir = await mkdtemp(join(tmpdir(), "aiguard-unwritable-"));
  try {
    const { code, out, err } = await run(dir, await unwritable[0]!.make(dir), {
      EXIT_HOW: "exit-right-after-call",
      EXIT_URL: server.url,
      EXIT_ACK: join(dir, "ack.json"),
    }, "tests/fixtures/attack_exit/app.ts");
    assert.equal(code, 8, err);
    assert.equal(out, "");
    assert.deepEqual(
      recordsIn(err).filter((r) => r.event === "ai_call").map((r) => r.model),
      [0, 1, 2].map((i) => `attack-exit-right-after-call-${i}`),
    );
    assert.equal(err.match(/records now go to stderr/g)?.length, 1, err);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
