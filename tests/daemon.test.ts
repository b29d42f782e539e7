// @runtimes deno bun node
import { afterEach, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Daemon, daemonPaths, runDaemon } from "../src/cli/daemon.ts";
import { verifyChain } from "../src/storage/_chain.ts";
import { enableGuard, type GuardRecord } from "../mod.ts";
import { main } from "../cli.ts";
import { freshContext } from "./support/mock_ai_server.ts";
import { recordJson } from "./support/fixtures.ts";
import { recordLines } from "./support/storage_contract.ts";

let dir: string;
let daemon: Daemon | null;

beforeEach(async () => {
  await freshContext();
  dir = await mkdtemp(join(tmpdir(), "aiguard-daemon-"));
  daemon = null;
});
afterEach(async () => {
  await daemon?.close();
  await rm(dir, { recursive: true, force: true });
});

function paths() {
  return daemonPaths(join(dir, "guard.sock"), join(dir, "guard_log.jsonl"));
}

/** The records in the report (the chain's own head and seal lines left out). */
async function reportLines(path = paths().reportPath): Promise<GuardRecord[]> {
  return (await recordLines(path)).map((l) => JSON.parse(l));
}

/**
 * A report-mode guard in this process on `socketPath` (falling back to own.jsonl), over a fetch
 * answered locally; `call(model)` makes one unattested AI call naming that model.
 */
function reportingTo(socketPath: string) {
  const ownPath = join(dir, "own.jsonl");
  const original = globalThis.fetch;
  globalThis.fetch = (() => Promise.resolve(new Response("{}"))) as typeof fetch;
  const guard = enableGuard({ mode: "report", socketPath, reportPath: ownPath, discover: false });
  const call = (model: string) =>
    fetch("https://api.openai.com/v1/chat/completions", {
      method: "POST",
      body: JSON.stringify({ model }),
    });
  const restore = async () => {
    await guard.disable();
    globalThis.fetch = original;
  };
  return { ownPath, guard, call, restore };
}

/** Sends raw bytes on one connection and closes it. */
function send(socketPath: string, ...chunks: Array<string | Uint8Array>): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const socket = createConnection({ path: socketPath }, async () => {
      for (const chunk of chunks) {
        await new Promise<void>((r) => socket.write(chunk, () => r()));
      }
      socket.end(() => resolvePromise());
    });
    socket.on("error", reject);
  });
}

const good = (model: string) =>
  recordJson({
    ts: new Date().toISOString(),
    model,
    detector: "fetch",
    call_site: null,
    stack: [],
  }) +
  "\n";

const bin = (name: string) => resolve("node_modules/.bin", name);
const CHILD = resolve("tests/support/guarded_child.ts");
const RUNTIMES: Record<string, [string, string[]]> = {
  node: [bin("node"), [CHILD]],
  bun: [bin("bun"), [CHILD]],
  deno: [bin("deno"), ["run", "-A", CHILD]],
};

function child(runtime: string, name: string, calls: number, socket: string): Promise<void> {
  const [cmd, args] = RUNTIMES[runtime]!;
  return new Promise((resolvePromise, reject) =>
    execFile(cmd, args, {
      env: {
        ...process.env,
        AIGUARD_MODE: "report",
        AIGUARD_SOCKET: socket,
        AIGUARD_REPORT_PATH: join(dir, `fallback-${name}.jsonl`),
        AIGUARD_CHILD_CALLS: String(calls),
        AIGUARD_CHILD_NAME: name,
      },
    }, (error, _out, stderr) => (error ? reject(new Error(stderr)) : resolvePromise()))
  );
}

test("daemon: two, then eight processes of mixed runtimes report into one file, every record once", async () => {
  const p = paths();
  daemon = await runDaemon(p);
  const runtimes = ["node", "bun", "deno"];
  await Promise.all([child("node", "a", 50, p.socketPath), child("bun", "b", 50, p.socketPath)]);
  await Promise.all(
    Array.from({ length: 8 }, (_, i) => child(runtimes[i % 3]!, `p${i}`, 25, p.socketPath)),
  );
  await daemon.close();
  const models = (await reportLines()).map((r) => r.model);
  const expected = [
    ...Array.from({ length: 50 }, (_, i) => `a-${i}`),
    ...Array.from({ length: 50 }, (_, i) => `b-${i}`),
    ...Array.from({ length: 8 }, (_, p) => Array.from({ length: 25 }, (_, i) => `p${p}-${i}`))
      .flat(),
  ];
  assert.deepEqual([...models].sort(), expected.sort());
  assert.equal(daemon.stats.received, 300);
  // The daemon, the only writer, chains every line it writes.
  const chain = verifyChain([{ file: p.reportPath, text: await readFile(p.reportPath, "utf8") }]);
  assert.equal(chain.broken, null);
  // The chain_start head line, then the 300 records.
  assert.deepEqual([chain.firstSeq, chain.lastSeq, chain.lines], [1, 301, 301]);
});

test("daemon: garbage, bad UTF-8, a 10 MiB line, half lines and 200 connections never stop it", async () => {
  const p = paths();
  daemon = await runDaemon(p);
  const idle = createConnection({ path: p.socketPath }); // connects and sends nothing
  await send(p.socketPath, "garbage\n", good("g1"), '{"v":2}\n');
  await send(p.socketPath, new Uint8Array([0xff, 0xfe, 0x7b, 0x0a]), good("g2"));
  await send(p.socketPath, "x".repeat(10 * 1024 * 1024)); // no newline at all
  await send(p.socketPath, "y".repeat(70 * 1024) + "\n" + good("g3"));
  await send(p.socketPath, good("g4"), good("g5").slice(0, 40)); // half a line, then gone
  await Promise.all(Array.from({ length: 200 }, (_, i) => send(p.socketPath, good(`c${i}`))));
  // Still up: a new client is served.
  await send(p.socketPath, good("after"));
  idle.destroy();
  await new Promise((r) => setTimeout(r, 1100)); // the stats file is written every second
  let out = "";
  const code = await main(["daemon", "status", "--socket", p.socketPath, "--file", p.reportPath], {
    out: (t) => (out += t),
    err: () => {},
  });
  assert.equal(code, 0, out);
  assert.match(out, /running \(pid \d+\)/);
  assert.match(out, /2 malformed, 2 oversized, 1 invalid UTF-8, 1 truncated/);
  await daemon.close();
  const models = (await reportLines()).map((r) => r.model);
  assert.equal(models.length, 205);
  for (const m of ["g1", "g2", "g3", "g4", "after", "c0", "c199"]) assert.ok(models.includes(m), m);
  const stats = daemon.stats;
  assert.equal(stats.received, 205);
  assert.equal(stats.malformed, 2); // "garbage" and the v:2 line
  assert.equal(stats.invalid_utf8, 1);
  assert.equal(stats.oversized, 2);
  assert.equal(stats.truncated, 1); // the 10 MiB line was counted oversized, not truncated
});

test("a connect that completes while the event loop is busy is not taken for a timeout", async () => {
  const p = paths();
  daemon = await runDaemon(p);
  const { ownPath, guard, call, restore } = reportingTo(p.socketPath);
  try {
    await call("busy-0");
    // Blocks the loop just past the 500 ms connect timeout (as module loading at start can):
    // the timer then runs in the same loop turn as the connect's completion, and first.
    const until = Date.now() + 520;
    while (Date.now() < until) { /* busy */ }
    await guard.flush();
  } finally {
    await restore();
  }
  await daemon.close();
  daemon = null;
  assert.deepEqual((await reportLines()).map((r) => r.model), ["busy-0"]);
  assert.deepEqual(await reportLines(ownPath), []);
});

test("daemon dies mid-run: the guard falls back to its file without losing a record", async () => {
  const p = paths();
  daemon = await runDaemon(p);
  const { ownPath, guard, call, restore } = reportingTo(p.socketPath);
  try {
    for (let i = 0; i < 5; i++) await call(`before-${i}`);
    await guard.flush();
    await daemon.close();
    daemon = null;
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 5; i++) await call(`after-${i}`);
    await guard.flush();
  } finally {
    await restore();
  }
  const viaDaemon = (await reportLines()).map((r) => r.model);
  const viaFile = (await reportLines(ownPath)).map((r) => r.model);
  assert.deepEqual([...viaDaemon, ...viaFile].sort(), [
    ...Array.from({ length: 5 }, (_, i) => `after-${i}`),
    ...Array.from({ length: 5 }, (_, i) => `before-${i}`),
  ]);
  assert.equal(viaDaemon.length, 5);
});

test("daemon start, status, stop through the CLI; files are 0600 in a 0700 directory", async () => {
  const p = paths();
  const cli = resolve("cli.ts");
  const runCli = (...args: string[]) =>
    new Promise<{ code: number; out: string }>((resolvePromise) =>
      execFile(bin("node"), [cli, ...args, "--socket", p.socketPath, "--file", p.reportPath], (
        error,
        out,
      ) => resolvePromise({ code: error ? (error as { code?: number }).code ?? 1 : 0, out }))
    );
  const started = await runCli("daemon", "start");
  assert.equal(started.code, 0, started.out);
  try {
    assert.match(started.out, /started \(pid \d+\)/);
    const { statSync } = await import("node:fs");
    assert.equal(statSync(p.socketPath).mode & 0o777, 0o600);
    assert.equal(statSync(p.pidPath).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    await child("node", "s", 3, p.socketPath);
    const status = await runCli("daemon", "status");
    assert.equal(status.code, 0, status.out);
    assert.match(status.out, /socket: .*guard\.sock/);
  } finally {
    const stopped = await runCli("daemon", "stop");
    assert.match(stopped.out, /stopped \(pid \d+\)/);
  }
  const after = await runCli("daemon", "status");
  assert.equal(after.code, 1);
  assert.match(after.out, /not running/);
  assert.match(after.out, /entries: 3/);
  assert.deepEqual((await reportLines()).map((r) => r.model), ["s-0", "s-1", "s-2"]);
});
