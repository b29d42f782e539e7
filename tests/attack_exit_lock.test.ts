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
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startMockAiServer } from "./support/mock_ai_server.ts";
import { runtimeCommand } from "./support/runtime_command.ts";

test("process.exit right after the last call, ten times: no run leaves the report lock behind", async () => {
  const server = await startMockAiServer();
  const dir = await mkdtemp(join(tmpdir(), "aiguard-lock-left-"));
  const left: string[] = [];
  try {
    for (let i = 0; i < 10; i++) {
      const reportPath = join(dir, `run-${i}.jsonl`);
      const [cmd, args] = runtimeCommand(resolve("tests/fixtures/attack_exit/app.ts"), []);
      const code = await new Promise<number | null>((done, fail) => {
        const child = spawn(cmd, args, {
          stdio: "ignore",
          env: {
            ...process.env,
            HOME: dir,
            EXIT_HOW: "exit-right-after-call",
            EXIT_URL: server.url,
            EXIT_ACK: join(dir, `run-${i}.ack`),
            AIGUARD_MODE: "report",
            AIGUARD_SINKS: "file",
            AIGUARD_REPORT_PATH: reportPath,
          },
        });
        child.on("error", fail);
        child.on("close", done);
      });
      assert.equal(code, 8);
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

/** When Linux says `pid` started (ms since the epoch), as the lock file records it. */
async function startedMs(pid: number): Promise<number> {
  const btime = Number(/^btime (\d+)$/m.exec(await readFile("/proc/stat", "utf8"))![1]) * 1000;
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  return btime + Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]) * 10;
}

test("a stopped process holds the report lock: the app still ends on its own, its records written", async () => {
  const server = await startMockAiServer();
  const dir = await mkdtemp(join(tmpdir(), "aiguard-lock-stopped-"));
  const holder = spawn("sleep", ["120"], { stdio: "ignore" });
  try {
    await new Promise((done) => holder.once("spawn", done));
    holder.kill("SIGSTOP"); // stopped mid-batch, as Ctrl-Z or a breakpoint leaves it
    const reportPath = join(dir, "report.jsonl");
    const lock = { pid: holder.pid, host: hostname(), started: await startedMs(holder.pid!) };
    await writeFile(`${reportPath}.lock`, JSON.stringify({ ...lock, ts: Date.now() }) + "\n", {
      mode: 0o600,
    });
    const [cmd, args] = runtimeCommand(resolve("tests/fixtures/attack_exit/app.ts"), []);
    const started = Date.now();
    const code = await new Promise<number | null>((done, fail) => {
      const child = spawn(cmd, args, {
        stdio: "ignore",
        env: {
          ...process.env,
          HOME: dir,
          EXIT_HOW: "exitcode-natural",
          EXIT_URL: server.url,
          EXIT_ACK: join(dir, "run.ack"),
          AIGUARD_MODE: "report",
          AIGUARD_SINKS: "file",
          AIGUARD_REPORT_PATH: reportPath,
        },
      });
      const stalled = setTimeout(() => child.kill("SIGKILL"), 20_000);
      child.on("error", fail);
      child.on("close", (exitCode) => {
        clearTimeout(stalled);
        done(exitCode);
      });
    });
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
