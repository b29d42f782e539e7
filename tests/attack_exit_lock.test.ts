// @runtimes deno bun node
/**
 * An exit while this writer's own async batch holds the report lock: `appendLinesSync` writes
 * under the held lock and must then give it up, or the process ends with `<report>.lock` left
 * behind naming a dead pid (seen on Node in about 1 run of 3 before the fix).
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
