// @runtimes deno bun node
import { afterEach, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Daemon, daemonPaths, runDaemon } from "../src/cli/daemon.ts";
import { verifyChain } from "./support/verify_report.ts";
import { enableGuard, type GuardRecord } from "../mod.ts";
import { main } from "../cli.ts";
import { freshContext } from "./support/mock_ai_server.ts";
import { installNetwork } from "./support/fake_network.ts";
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
  const net = installNetwork();
  const guard = enableGuard({ mode: "report", socketPath, reportPath: ownPath, discover: false });
  const call = (model: string) =>
    fetch("https://api.openai.com/v1/chat/completions", {
      method: "POST",
      body: JSON.stringify({ model }),
    });
  const restore = async () => {
    try {
      await guard.disable();
    } finally {
      net.restore();
    }
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
  const chain = await verifyChain([{
    file: p.reportPath,
    text: await readFile(p.reportPath, "utf8"),
  }]);
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
  assert.match(out, /2 malformed, 2 oversized, 1 invalid UTF-8, 1 truncated; 0 stripped/);
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

/**
 * Sends `text` then a flush line on one connection; resolves with the ack line once it comes, and
 * the report's records as they were the moment it came (read synchronously: nothing can land
 * between).
 */
function sendAndFlush(
  socketPath: string,
  text: string,
  id: number,
): Promise<{ ack: string; recordsAtAck: number }> {
  return new Promise((resolvePromise, reject) => {
    let received = "";
    const socket = createConnection({ path: socketPath }, () => {
      socket.write(text + `{"event":"flush","id":${id}}\n`);
    });
    socket.on("data", (chunk) => {
      received += chunk;
      if (received.includes("\n")) {
        const report = readFileSync(paths().reportPath, "utf8");
        socket.end();
        const records = report.split("\n").filter((l) => /"event":"(ai_call|dropped)"/.test(l));
        resolvePromise({ ack: received, recordsAtAck: records.length });
      }
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`closed without an ack: ${received}`)));
  });
}

test("daemon: a flush line is acknowledged only once every record before it is in the file", async () => {
  const p = paths();
  daemon = await runDaemon(p);
  writeFileSync(p.reportPath, ""); // read at the ack, also when an early ack came before any write
  // Enough lines (~7 MB, below the 10 MiB rotation) that the write takes a while: an early ack
  // would be seen.
  const many = Array.from({ length: 15_000 }, (_, i) => good(`m${i}`)).join("");
  assert.deepEqual(await sendAndFlush(p.socketPath, many, 41), {
    ack: '{"ack":41}\n',
    recordsAtAck: 15_000,
  });
  const models = (await reportLines()).map((r) => r.model);
  assert.equal(models[14_999], "m14999");
  // Nothing new since: answered at once, with the id given.
  assert.deepEqual(await sendAndFlush(p.socketPath, "", 0), {
    ack: '{"ack":0}\n',
    recordsAtAck: 15_000,
  });
});

test("daemon: writes only a record's own fields, never a client's seq/prev or anything secret-shaped", async () => {
  const p = paths();
  daemon = await runDaemon(p);
  const SECRET = "sk-live-0123456789abcdef";
  const sent = [
    // A client's own chain fields would fork the daemon's chain.
    recordJson({ model: "own-seq", seq: 1, prev: null }),
    recordJson({
      model: "with-secrets",
      prompt: `tell me ${SECRET}`,
      messages: [{ role: "user", content: SECRET }],
      headers: { authorization: `Bearer ${SECRET}` },
      body: SECRET,
      api_key: SECRET,
      authorization: SECRET,
      attestation: { id: "a1", reason: null, owner: "ml", ticket: "T-1", token: SECRET },
    }),
    recordJson({ model: "plain" }),
    JSON.stringify({
      v: 1,
      ts: "2026-11-23T10:00:00.000Z",
      event: "dropped",
      count: 4,
      runtime: "node",
      service: null,
      pid: 9,
      guard_version: "0.1.0",
      query: `?key=${SECRET}`,
    }),
    // Wrongly typed or missing fields: not a record the daemon can vouch for.
    recordJson({ model: "bad-ts", ts: 5 }),
    recordJson({ model: "bad-provider", provider: {} }),
    recordJson({ model: "bad-action", action: 7 }),
    recordJson({ model: "bad-stack", stack: SECRET }),
    recordJson({ model: "bad-attested", attested: "yes" }),
    recordJson({ model: "bad-port", port: "443" }),
    recordJson({ model: "bad-attestation", attestation: { id: 5, reason: null } }),
    recordJson({ model: "no-target", target: undefined }),
    recordJson({ model: "bad-event", event: "seal" }),
    JSON.stringify({ event: "flush" }), // a flush line without its id
  ];
  assert.deepEqual(await sendAndFlush(p.socketPath, sent.join("\n") + "\n", 1), {
    ack: '{"ack":1}\n',
    recordsAtAck: 4,
  });
  await daemon.close();
  const text = await readFile(p.reportPath, "utf8");
  assert.ok(!text.includes(SECRET), text);
  const written = text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(written.shift().event, "chain_start"); // the daemon's own head line
  assert.deepEqual(written.map((r) => r.model ?? r.event), [
    "own-seq",
    "with-secrets",
    "plain",
    "dropped",
  ]);
  const recordKeys = Object.keys(JSON.parse(recordJson())).concat("seq", "prev").sort();
  for (const r of written.slice(0, 3)) assert.deepEqual(Object.keys(r).sort(), recordKeys);
  assert.deepEqual(written[1].attestation, { id: "a1", reason: null, owner: "ml", ticket: "T-1" });
  assert.deepEqual(Object.keys(written[3]).sort(), [
    "count",
    "event",
    "guard_version",
    "pid",
    "prev",
    "runtime",
    "seq",
    "service",
    "ts",
    "v",
  ]);
  const chain = await verifyChain([{ file: p.reportPath, text }]);
  assert.equal(chain.broken, null);
  assert.deepEqual([chain.firstSeq, chain.lastSeq], [1, 5]);
  assert.equal(daemon.stats.malformed, 10);
  assert.equal(daemon.stats.stripped, 3);
  assert.equal(daemon.stats.received, 4);
});

test("daemon: a symlink at guard.pid or guard.stats.json is replaced, its target never written", async () => {
  const { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } = await import(
    "node:fs"
  );
  const p = paths();
  const elsewhere = join(dir, "elsewhere");
  mkdirSync(elsewhere);
  for (const name of ["victim-pid", "victim-stats"]) {
    writeFileSync(join(elsewhere, name), "precious\n");
  }
  symlinkSync(join(elsewhere, "victim-pid"), p.pidPath);
  symlinkSync(join(elsewhere, "victim-stats"), p.statsPath);
  daemon = await runDaemon(p);
  assert.ok(!lstatSync(p.pidPath).isSymbolicLink());
  assert.equal(lstatSync(p.pidPath).mode & 0o777, 0o600);
  assert.equal(readFileSync(p.pidPath, "utf8").trim(), String(process.pid));
  await daemon.close(); // writes the stats file
  daemon = null;
  assert.ok(!lstatSync(p.statsPath).isSymbolicLink());
  assert.equal(lstatSync(p.statsPath).mode & 0o777, 0o600);
  for (const name of ["victim-pid", "victim-stats"]) {
    assert.equal(readFileSync(join(elsewhere, name), "utf8"), "precious\n");
  }
});

test("daemon: a directory others can write is refused, by run and by start, with what to do", async () => {
  const { chmodSync, existsSync, mkdirSync, writeFileSync } = await import("node:fs");
  const open = join(dir, "shared");
  mkdirSync(open);
  chmodSync(open, 0o777);
  const p = daemonPaths(join(open, "guard.sock"), join(open, "guard_log.jsonl"));
  await assert.rejects(runDaemon(p), {
    name: "UnsafeDirectoryError",
    message: `The daemon's directory ${open} can be written by others (mode 0777): refused. ` +
      `Run chmod 700 ${open}, or use another directory (--socket).`,
  });
  let err = "";
  const code = await main(["daemon", "start", "--socket", p.socketPath, "--file", p.reportPath], {
    out: () => {},
    err: (t) => (err += t),
  });
  assert.equal(code, 2);
  assert.match(err, /^aiguard daemon: The daemon's directory .* can be written by others/);
  assert.equal(existsSync(p.socketPath) || existsSync(p.pidPath), false);
  // Another user's directory (made here by chown, where this runs as root) is refused too.
  if (process.getuid?.() === 0) {
    const theirs = join(dir, "theirs");
    mkdirSync(theirs, { mode: 0o700 });
    (await import("node:fs")).chownSync(theirs, 65534, 65534);
    await assert.rejects(
      runDaemon(daemonPaths(join(theirs, "guard.sock"), join(theirs, "guard_log.jsonl"))),
      { name: "UnsafeDirectoryError", message: /belongs to another user \(uid 65534\): refused/ },
    );
  }
  // Something at the socket path that is not a socket is not removed to make room.
  const own = paths();
  writeFileSync(own.socketPath, "not a socket");
  await assert.rejects(runDaemon(own), /exists and is not a socket/);
  assert.equal(await readFile(own.socketPath, "utf8"), "not a socket");
});

test("daemon: a write that fails acknowledges nothing; the clients write those records themselves, once", async () => {
  const { mkdirSync, rmSync } = await import("node:fs");
  const p = paths();
  daemon = await runDaemon(p);
  const { ownPath, guard, call, restore } = reportingTo(p.socketPath);
  const errors: unknown[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    for (let i = 0; i < 5; i++) await call(`ok-${i}`);
    await guard.flush();
    await new Promise((r) => setTimeout(r, 100)); // the writer lets go of the file
    // The report becomes a directory: the daemon's next append fails.
    rmSync(p.reportPath);
    mkdirSync(p.reportPath);
    await Promise.all(Array.from({ length: 5 }, (_, i) => call(`lost-${i}`)));
    await guard.flush();
  } finally {
    console.error = consoleError;
    await restore();
  }
  assert.equal(errors.length, 1, String(errors));
  assert.equal(daemon.stats.write_failed, 5);
  assert.equal(daemon.stats.written, 5); // the ok-* records, in the report now replaced
  const own = (await reportLines(ownPath)).filter((r) => r.event === "ai_call");
  assert.deepEqual(own.map((r) => r.model), ["lost-0", "lost-1", "lost-2", "lost-3", "lost-4"]);
});

test("daemon: with AIGUARD_SIGNING_KEY it seals what it writes; a client's own seal line is not written", async () => {
  const { generateKeyPairSync } = await import("node:crypto");
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const keyPath = join(dir, "signer.key.pem");
  const publicPath = join(dir, "signer.pub.pem");
  writeFileSync(keyPath, privateKey.export({ type: "pkcs8", format: "pem" }) as string, {
    mode: 0o600,
  });
  writeFileSync(publicPath, publicKey.export({ type: "spki", format: "pem" }) as string);
  const p = paths();
  process.env.AIGUARD_SIGNING_KEY = keyPath;
  try {
    daemon = await runDaemon(p);
  } finally {
    delete process.env.AIGUARD_SIGNING_KEY;
  }
  const forged = JSON.stringify({ event: "seal", upto: 99, hash: "0".repeat(64), sig: "AAAA" });
  await sendAndFlush(p.socketPath, good("s1") + forged + "\n" + good("s2"), 1);
  await sendAndFlush(p.socketPath, good("s3"), 2);
  await daemon.close();
  const lines = (await readFile(p.reportPath, "utf8")).trimEnd().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.deepEqual(lines.filter((r) => r.event === "ai_call").map((r) => r.model), [
    "s1",
    "s2",
    "s3",
  ]);
  assert.ok(!lines.some((r) => r.upto === 99), "the client's seal line");
  assert.equal(lines.at(-1).event, "seal");
  assert.equal(daemon.stats.malformed, 1);
  let out = "";
  const code = await main(["verify", "--file", p.reportPath, "--key", publicPath], {
    out: (t) => (out += t),
    err: (t) => (out += t),
  });
  assert.equal(code, 0, out);
});
