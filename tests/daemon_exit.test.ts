// @runtimes node
// Exit paths through the daemon step: what the daemon has not acknowledged when the app leaves
// (process.exit(), an uncaught exception) is written to the app's own file synchronously on the
// way out; what it has acknowledged is not written again. The daemon is stopped (SIGSTOP) so that
// it can acknowledge nothing, and killed (SIGKILL) after the app left, so it never writes what it
// held: each record is then in exactly one of the two files. Clients on Node, Deno and Bun.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { socketAlive } from "../src/cli/daemon.ts";
import { verifyChain } from "./support/verify_report.ts";

const bin = (name: string) => resolve("node_modules/.bin", name);
const CLIENT = resolve("tests/support/daemon_exit_client.ts");
const CLIENTS: Record<string, [string, string[]]> = {
  node: [bin("node"), [CLIENT]],
  deno: [bin("deno"), ["run", "-A", CLIENT]],
  bun: [bin("bun"), [CLIENT]],
};
const BEFORE = 40;
const AFTER = 300;

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r(child.exitCode);
    else child.once("exit", (code) => r(code));
  });
}

async function models(path: string): Promise<string[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  // An empty file (nothing written there) has no chain to verify; anything written must verify.
  if (text !== "") assert.equal((await verifyChain([{ file: path, text }])).broken, null, path);
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l))
    .filter((r) => r.event === "ai_call").map((r) => r.model);
}

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

for (const runtime of Object.keys(CLIENTS)) {
  for (const how of ["process-exit", "throw"]) {
    test(`daemon step, ${how} (${runtime}): unacknowledged records are written on the way out, acknowledged ones not again`, async () => {
      const dir = await mkdtemp(join(tmpdir(), "aiguard-daemon-exit-"));
      const socket = join(dir, "guard.sock");
      const report = join(dir, "guard_log.jsonl");
      const own = join(dir, "client.jsonl");
      const go = join(dir, "go");
      const daemon = spawn(
        bin("node"),
        [resolve("cli.ts"), "daemon", "run", "--socket", socket, "--file", report],
        { stdio: "ignore" },
      );
      try {
        for (let i = 0; i < 200 && !(await socketAlive(socket, 100)); i++) {
          await new Promise((r) => setTimeout(r, 25));
        }
        const [cmd, args] = CLIENTS[runtime]!;
        const client = spawn(cmd, args, {
          env: {
            ...process.env,
            AIGUARD_MODE: "report",
            AIGUARD_SOCKET: socket,
            AIGUARD_REPORT_PATH: own,
            EXIT_BEFORE: String(BEFORE),
            EXIT_AFTER: String(AFTER),
            EXIT_GO: go,
            EXIT_HOW: how,
          },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stderr = "";
        client.stderr!.on("data", (d) => (stderr += d));
        for await (const line of createInterface({ input: client.stdout! })) {
          if (line !== "acked") continue;
          daemon.kill("SIGSTOP");
          writeFileSync(go, "");
        }
        const code = await exited(client);
        assert.equal(code, how === "throw" ? 1 : 0, stderr);
        if (how === "throw") assert.match(stderr, /the app failed/);
        daemon.kill("SIGKILL");
        await exited(daemon);
        assert.deepEqual(await models(report), names("before", BEFORE));
        assert.deepEqual((await models(own)).sort(), names("after", AFTER).sort());
      } finally {
        daemon.kill("SIGKILL");
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
}

// A live daemon and process.exit() right after a burst: the exit path waits (bounded) for the
// acknowledgements of what the daemon already has, reading the socket's descriptor, so nothing is
// written twice. Deno gives no descriptor: there the burst may be in both files, never in neither.
for (const runtime of Object.keys(CLIENTS)) {
  test(
    `daemon step, process-exit right after a burst, daemon alive (${runtime}): every record kept${
      runtime === "deno" ? "" : ", none twice"
    }`,
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "aiguard-daemon-exit-"));
      const socket = join(dir, "guard.sock");
      const report = join(dir, "guard_log.jsonl");
      const own = join(dir, "client.jsonl");
      const go = join(dir, "go");
      writeFileSync(go, "");
      const daemon = spawn(
        bin("node"),
        [resolve("cli.ts"), "daemon", "run", "--socket", socket, "--file", report],
        { stdio: "ignore" },
      );
      try {
        for (let i = 0; i < 200 && !(await socketAlive(socket, 100)); i++) {
          await new Promise((r) => setTimeout(r, 25));
        }
        const [cmd, args] = CLIENTS[runtime]!;
        const client = spawn(cmd, args, {
          env: {
            ...process.env,
            AIGUARD_MODE: "report",
            AIGUARD_SOCKET: socket,
            AIGUARD_REPORT_PATH: own,
            EXIT_BEFORE: "1",
            EXIT_AFTER: String(AFTER),
            EXIT_GO: go,
            EXIT_SETTLE_MS: "1", // sent, not yet acknowledged
            EXIT_HOW: "process-exit",
          },
          stdio: ["ignore", "ignore", "pipe"],
        });
        let stderr = "";
        client.stderr!.on("data", (d) => (stderr += d));
        assert.equal(await exited(client), 0, stderr);
        daemon.kill("SIGTERM"); // writes what it took, then stops
        await exited(daemon);
        const count = new Map<string, number>();
        for (const m of [...await models(report), ...await models(own)]) {
          count.set(m, (count.get(m) ?? 0) + 1);
        }
        const expected = [...names("before", 1), ...names("after", AFTER)];
        assert.deepEqual([...count.keys()].sort(), expected.sort());
        const twice = [...count.values()].filter((n) => n > 1).length;
        console.log(`exit right after a burst, ${runtime}: ${AFTER + 1} records, ${twice} twice`);
        if (runtime !== "deno") assert.equal(twice, 0);
      } finally {
        daemon.kill("SIGKILL");
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
}
