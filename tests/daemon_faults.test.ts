// @runtimes node
// The daemon killed (SIGKILL) mid-burst, again and again, while clients on Node, Deno and Bun
// report through it: every record their flush() acknowledged is in the daemon's report or in the
// client's own file, and every record the daemon acknowledged is there exactly once. The clients
// run on every runtime from this one file; the daemon is the CLI's `daemon run` on Node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { socketAlive } from "../src/cli/daemon.ts";
import { verifyChain } from "./support/verify_report.ts";

const bin = (name: string) => resolve("node_modules/.bin", name);
const CLIENT = resolve("tests/support/daemon_burst_client.ts");
const CLIENTS: Record<string, [string, string[]]> = {
  node: [bin("node"), [CLIENT]],
  deno: [bin("deno"), ["run", "-A", CLIENT]],
  bun: [bin("bun"), [CLIENT]],
};
const SIZE = 500;
const ROUNDS = 20;
const KILLS_PER_RUNTIME = 4;

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r(child.exitCode);
    else child.once("exit", (code) => r(code));
  });
}

async function startDaemon(socket: string, file: string): Promise<ChildProcess> {
  const daemon = spawn(
    bin("node"),
    [resolve("cli.ts"), "daemon", "run", "--socket", socket, "--file", file],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 200; i++) {
    if (await socketAlive(socket, 100)) return daemon;
    await new Promise((r) => setTimeout(r, 25));
  }
  daemon.kill("SIGKILL");
  throw new Error("the daemon did not start");
}

/** Models per line of a file; a cut last line (the daemon killed mid-write) is counted apart. */
async function modelsIn(path: string): Promise<{ models: string[]; text: string; torn: number }> {
  const text = await readFile(path, "utf8").catch(() => "");
  const models: string[] = [];
  let torn = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      const r = JSON.parse(line) as { event?: string; model?: string };
      if (r.event === "ai_call") models.push(r.model!);
    } catch {
      torn++;
    }
  }
  return { models, text, torn };
}

/**
 * One run: the daemon is killed once the client says round `killAfter` is acknowledged, `at` of
 * a round's time later (a round's time measured between the client's last two acknowledgements),
 * so that kills land at different points of the next burst: while it is sent, written or answered.
 */
async function killRun(runtime: string, killAfter: number, at: number) {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-daemon-kill-"));
  try {
    const socket = join(dir, "guard.sock");
    const report = join(dir, "guard_log.jsonl");
    const own = join(dir, "client.jsonl");
    const daemon = await startDaemon(socket, report);
    const [cmd, args] = CLIENTS[runtime]!;
    const client = spawn(cmd, args, {
      env: {
        ...process.env,
        AIGUARD_MODE: "report",
        AIGUARD_SOCKET: socket,
        AIGUARD_REPORT_PATH: own,
        AIGUARD_BURST_SIZE: String(SIZE),
        AIGUARD_BURST_ROUNDS: String(ROUNDS),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    client.stderr!.on("data", (d) => (stderr += d));
    let acked = -1;
    let ackedAtKill = -1;
    let lastAck = 0;
    let roundMs = 0;
    for await (const line of createInterface({ input: client.stdout! })) {
      const m = /^acked (\d+)$/.exec(line);
      if (!m) continue;
      acked = Number(m[1]);
      roundMs = Date.now() - lastAck;
      lastAck = Date.now();
      if (acked === killAfter) {
        await new Promise((r) => setTimeout(r, roundMs * at));
        ackedAtKill = acked;
        daemon.kill("SIGKILL");
      }
    }
    assert.equal(await exited(client), 0, stderr);
    await exited(daemon);
    assert.equal(acked, ROUNDS - 1, "every round acknowledged");
    const viaDaemon = await modelsIn(report);
    const viaFile = await modelsIn(own);
    const count = new Map<string, number>();
    for (const m of [...viaDaemon.models, ...viaFile.models]) count.set(m, (count.get(m) ?? 0) + 1);
    let missing = 0;
    let twice = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < SIZE; i++) {
        const n = count.get(`${round}-${i}`) ?? 0;
        if (n === 0) missing++;
        if (n > 1) {
          twice++;
          // Acknowledged by the daemon before it was killed: never written again.
          assert.ok(round > ackedAtKill, `${round}-${i} was acknowledged before the kill`);
        }
      }
    }
    // Both files are chained without a break (a line cut by the kill is the daemon's last).
    const intact = (text: string) => text.slice(0, text.lastIndexOf("\n") + 1);
    assert.equal(
      (await verifyChain([{ file: report, text: intact(viaDaemon.text) }])).broken,
      null,
    );
    assert.equal((await verifyChain([{ file: own, text: viaFile.text }])).broken, null);
    return {
      acknowledged: ROUNDS * SIZE,
      found: count.size,
      missing,
      twice,
      viaDaemon: viaDaemon.models.length,
      viaFile: viaFile.models.length,
      torn: viaDaemon.torn,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const runtime of Object.keys(CLIENTS)) {
  test(`daemon SIGKILLed mid-burst (${runtime} client): every acknowledged record is kept, none the daemon acknowledged twice`, async () => {
    const totals = {
      acknowledged: 0,
      found: 0,
      missing: 0,
      twice: 0,
      viaDaemon: 0,
      viaFile: 0,
      torn: 0,
    };
    for (let k = 0; k < KILLS_PER_RUNTIME; k++) {
      const run = await killRun(runtime, 2 + 2 * k, [0.3, 0.6, 0.85, 1][k]!);
      for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += run[key];
    }
    console.log(`daemon kill, ${runtime} client: ${JSON.stringify(totals)}`);
    assert.equal(totals.missing, 0);
    assert.equal(totals.found, totals.acknowledged);
    // The daemon wrote part of each run before it died, the client's file the rest.
    assert.ok(totals.viaDaemon > 0 && totals.viaFile > 0, JSON.stringify(totals));
  });
}
