// @runtimes deno bun node
/**
 * The report lock on the way out. An exit while this writer's own async batch holds the lock:
 * `appendLinesSync` writes under the held lock and must then give it up, or the process ends with
 * `<report>.lock` left behind naming a dead pid (seen on Node in about 1 run of 3 before the fix).
 * A lock another live process holds and never gives up (stopped: Ctrl-Z, a breakpoint): the app
 * still ends when its own work ends, and its records are written (the exit path's bounded wait).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startMockAiServer } from "./support/mock_ai_server.ts";
import { runtimeCommand } from "./support/runtime_command.ts";
import { stoppedHolder } from "./support/stopped_holder.ts";

/**
 * Runs tests/fixtures/attack_exit/app.ts leaving `how`, guarded in report mode into `reportPath`;
 * resolves with its exit code (killed after `limitMs`: `null`).
 */
function runApp(
  how: string,
  dir: string,
  serverUrl: string,
  reportPath: string,
  limitMs = 60_000,
): Promise<number | null> {
  const [cmd, args] = runtimeCommand(resolve("tests/fixtures/attack_exit/app.ts"), []);
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, {
      stdio: "ignore",
      env: {
        ...process.env,
        HOME: dir,
        EXIT_HOW: how,
        EXIT_URL: serverUrl,
        EXIT_ACK: `${reportPath}.ack`,
        AIGUARD_MODE: "report",
        AIGUARD_SINKS: "file",
        AIGUARD_REPORT_PATH: reportPath,
      },
    });
    const stalled = setTimeout(() => child.kill("SIGKILL"), limitMs);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(stalled);
      done(code);
    });
  });
}

test("process.exit right after the last call, ten times: no run leaves the report lock behind", async () => {
  const server = await startMockAiServer();
  const dir = await mkdtemp(join(tmpdir(), "aiguard-lock-left-"));
  const left: string[] = [];
  try {
    for (let i = 0; i < 10; i++) {
      const reportPath = join(dir, `run-${i}.jsonl`);
      assert.equal(await runApp("exit-right-after-call", dir, server.url, reportPath), 8);
      if (existsSync(`${reportPath}.lock`)) {
        left.push(`run ${i}: ${await readFile(`${reportPath}.lock`, "utf8")}`);
      }
    }
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  assert.deepEqual(left, []);
});

test("a stopped process holds the report lock: the app still ends on its own, its records written", async () => {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-lock-stopped-"));
  const reportPath = join(dir, "report.jsonl");
  const holder = await stoppedHolder(reportPath);
  const server = await startMockAiServer();
  try {
    const started = Date.now();
    const code = await runApp("exitcode-natural", dir, server.url, reportPath, 20_000);
    const took = Date.now() - started;
    assert.equal(code, 6, `the app did not end on its own (${took} ms)`);
    assert.ok(took < 15_000, `the app took ${took} ms to end`);
    const report = await readFile(reportPath, "utf8");
    const calls = report.split("\n").filter((line) => line.includes('"event":"ai_call"'));
    assert.equal(calls.length, 3, report);
  } finally {
    holder.kill("SIGKILL");
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
