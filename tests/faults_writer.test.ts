// @runtimes deno bun node
/**
 * The report writer under faults: the synchronous exit write, head lines and seals that name the
 * report, torn tails, stale locks, hostile chain state and unsafe files. Every case counts the
 * records it handed over against the records found.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createPublicKey, generateKeyPairSync, verify as verifySignature } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  lutimesSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../cli.ts";
import { createNodeFsStorage } from "../src/storage/node_fs.ts";
import { backupName } from "../src/storage/_rotating_file.ts";
import { sha256Hex } from "../src/storage/_chain.ts";
import { verifyChain } from "./support/verify_report.ts";
import { runtimeKey } from "../src/runtime.ts";
import { runtimeCommand } from "./support/runtime_command.ts";
import { sealMessage } from "../src/storage/_seal.ts";
import { lockSync, syncFs } from "../src/storage/_report_lock.ts";
import { createMemoryStorage } from "../src/storage/memory.ts";
import { RecordQueue } from "../src/report/queue.ts";
import process from "node:process";

let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), "aiguard-faults-"))));
after(() => rm(dir, { recursive: true, force: true }));

let made = 0;
/** A fresh report path in its own 0700 directory. */
async function reportPath(): Promise<string> {
  const sub = await mkdtemp(join(dir, `r${++made}-`));
  return join(sub, "guard_log.jsonl");
}

const record = (n: number, pad = "") =>
  JSON.stringify({ v: 1, ts: new Date().toISOString(), event: "ai_call", n, pad });

function parsed(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
}

function keyPair(name: string): { privatePath: string; publicPath: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const privatePath = join(dir, `${name}.key.pem`);
  const publicPath = join(dir, `${name}.pub.pem`);
  const publicPem = publicKey.export({ format: "pem", type: "spki" }) as string;
  writeFileSync(privatePath, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
  writeFileSync(publicPath, publicPem);
  return { privatePath, publicPath, publicPem };
}

async function verify(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await main(["verify", ...argv], { out: (t) => (out += t), err: (t) => (out += t) });
  return { code, out };
}

test("appendLinesSync: chained, sealed lines are in the file when it returns; the lock is released", async () => {
  const key = keyPair("sync");
  const path = await reportPath();
  const storage = createNodeFsStorage({ path, signingKey: key.privatePath });
  storage.appendLinesSync([record(1), record(2)]);
  // Read before any await: the write was synchronous.
  const lines = parsed(path);
  assert.deepEqual(lines.map((l) => l.event), ["chain_start", "ai_call", "ai_call", "seal"]);
  assert.deepEqual(lines.map((l) => l.seq), [1, 2, 3, 4]);
  assert.equal(existsSync(`${path}.lock`), false, "the lock is released");
  const head = lines[0]!;
  const seal = lines[3]!;
  assert.match(String(head.report), /^[0-9a-f]{32}$/);
  assert.equal(seal.report, head.report, "the seal names the report its head line started");
  assert.equal(seal.upto, 3);
  // The signature covers report, position and hash, not the hash alone.
  const signed = verifySignature(
    null,
    new TextEncoder().encode(sealMessage(head.report as string, 3, seal.hash as string)),
    createPublicKey(key.publicPem),
    Buffer.from(seal.sig as string, "base64"),
  );
  assert.equal(signed, true);
  const alone = verifySignature(
    null,
    new TextEncoder().encode(seal.hash as string),
    createPublicKey(key.publicPem),
    Buffer.from(seal.sig as string, "base64"),
  );
  assert.equal(alone, false, "a signature over the hash alone could be moved to another report");
  // An async batch after it continues the same chain and report.
  await storage.appendLines!([record(3)]);
  await storage.close();
  const all = parsed(path);
  assert.deepEqual(all.map((l) => l.seq), [1, 2, 3, 4, 5, 6]);
  assert.equal(all[5]!.event, "seal");
  assert.equal(all[5]!.report, head.report);
  const checked = await verify("--file", path, "--key", key.publicPath);
  assert.equal(checked.code, 0, checked.out);
});

test("appendLinesSync during the writer's own batch in flight: every line once, one chain", async () => {
  const path = await reportPath();
  const storage = createNodeFsStorage({ path, maxBytes: 1024 ** 3 });
  const pad = "x".repeat(200);
  const big = Array.from({ length: 20_000 }, (_, i) => record(i, pad)); // ~4.5 MB
  const queued = Array.from({ length: 50 }, (_, i) => record(20_000 + i));
  const extra = Array.from({ length: 50 }, (_, i) => record(20_050 + i));
  let synced = false;
  const inFlight = storage.appendLines!(big, () => {
    // The exit path runs while the big batch's bytes are on their way: it is handed the whole
    // pending set (the batch in flight, the queued one, and more), as a queue's flushSync would.
    storage.appendLinesSync([...big.slice(-100), ...queued, ...extra]);
    synced = true;
  });
  const later = storage.appendLines!(queued);
  await Promise.all([inFlight, later]);
  await storage.close();
  assert.equal(synced, true);
  const ns = parsed(path).filter((l) => l.event === "ai_call").map((l) => l.n as number);
  assert.equal(ns.length, 20_100, "every record once");
  assert.equal(new Set(ns).size, 20_100);
  const chain = await verifyChain([{ file: path, text: await readFile(path, "utf8") }]);
  assert.equal(chain.broken, null, JSON.stringify(chain.broken));
  assert.equal(chain.lines, 20_101, "the records and the head line, one chain");
});

test("appendLinesSync handed a batch that landed lately (its caller not yet told): every line once", async () => {
  const path = await reportPath();
  const storage = createNodeFsStorage({ path });
  const first = Array.from({ length: 30 }, (_, i) => record(i));
  const second = Array.from({ length: 30 }, (_, i) => record(30 + i));
  const rest = Array.from({ length: 30 }, (_, i) => record(60 + i));
  await storage.appendLines!(first);
  await storage.appendLines!(second);
  // An exit path that runs before a queue saw these writes resolve hands them over again.
  storage.appendLinesSync([...first.slice(10), ...second, ...rest]);
  await storage.close();
  const ns = parsed(path).filter((l) => l.event === "ai_call").map((l) => l.n as number);
  assert.deepEqual(ns, Array.from({ length: 90 }, (_, i) => i), "every record once, in order");
  const chain = await verifyChain([{ file: path, text: await readFile(path, "utf8") }]);
  assert.equal(chain.broken, null, JSON.stringify(chain.broken));
});

test("appendLinesSync waits at most ~2 s for a live holder of the lock, then writes anyway", async () => {
  const path = await reportPath();
  // A lock held by a live process on this host: this one (as another writer in it would).
  assert.ok(lockSync(syncFs("node-fs"), `${path}.lock`, 0));
  const storage = createNodeFsStorage({ path });
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => void warnings.push(m);
  const t0 = performance.now();
  try {
    storage.appendLinesSync([record(1)]);
  } finally {
    console.warn = warn;
  }
  const waited = performance.now() - t0;
  assert.ok(waited >= 1900 && waited < 4000, `waited ${waited} ms`);
  assert.equal(parsed(path).filter((l) => l.event === "ai_call").length, 1);
  assert.match(warnings.join("\n"), /still held after 2000 ms; writing 1 records without it/);
  assert.equal(existsSync(`${path}.lock`), true, "another's lock is not removed");
});

test("rotation: every file begins with a head line naming the report; dropped_upto accounts for the start", async () => {
  for (const backups of [2, 0]) {
    const path = await reportPath();
    const storage = createNodeFsStorage({ path, maxBytes: 2048, backups });
    for (let i = 1; i <= 60; i++) await storage.appendLines!([record(i, "y".repeat(100))]);
    await storage.close();
    const files = [
      ...Array.from({ length: backups }, (_, i) => backupName(path, backups - i)),
      path,
    ]
      .map((file) => parsed(file));
    const ids = new Set<unknown>();
    for (const lines of files) {
      assert.equal(lines[0]!.event, "rotated", "each kept file begins with its rotated line");
      ids.add(lines[0]!.report);
    }
    assert.equal(ids.size, 1, "one report id across rotation");
    const newest = files.at(-1)![0]!;
    const oldestFirstSeq = files[0]![0]!.seq as number;
    // What rotation dropped ends right before what is kept: nothing missing in between.
    assert.equal((newest.dropped_upto as number) + 1, backups === 0 ? newest.seq : oldestFirstSeq);
    const chain = await verifyChain(
      await Promise.all(
        [...Array.from({ length: backups }, (_, i) => backupName(path, backups - i)), path].map(
          async (file) => ({ file, text: await readFile(file, "utf8") }),
        ),
      ),
    );
    assert.equal(chain.broken, null);
    assert.equal(files.flat().at(-1)!.n, 60);
  }
});

/** Runs the child writer on this test's runtime; `stdout` collects what it printed. */
function spawnWriter(args: string[]): { child: ChildProcess; stdout: () => string } {
  const [cmd, argv] = runtimeCommand(
    new URL("./support/report_writer.ts", import.meta.url).pathname,
    args,
  );
  const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => (out += chunk));
  return { child, stdout: () => out };
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });

async function until(what: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The last `ack <n>` a writer printed: records 0…n were acknowledged to it. */
const lastAck = (out: string) =>
  Math.max(-1, ...[...out.matchAll(/^ack (\d+)$/gm)].map((m) => Number(m[1])));

/**
 * Checks a report a new writer appended to after a torn tail: the fragment ends in the file, the
 * recovered line measures it and names the last intact seq, every acknowledged record and every
 * new one is readable, and the chain is intact.
 */
async function checkRecovered(path: string, fragment: Uint8Array, acked: number, writer: string) {
  const text = await readFile(path, "utf8");
  const lines = text.trimEnd().split("\n");
  const at = lines.findIndex((l) => l.includes('"event":"recovered"'));
  assert.ok(at > 0, "a recovered line follows the fragment");
  const recovered = JSON.parse(lines[at]!);
  assert.equal(recovered.torn_bytes, fragment.length);
  assert.equal(new TextEncoder().encode(lines[at - 1]!).length, fragment.length);
  assert.throws(() => JSON.parse(lines[at - 1]!), "the fragment stays, unparsable");
  const intact = JSON.parse(lines[at - 2]!);
  assert.equal(recovered.after_seq, intact.seq);
  assert.equal(recovered.seq, intact.seq + 1);
  assert.equal(recovered.prev, sha256Hex(lines[at - 2]!));
  const records = lines.filter((_, i) => i !== at - 1).map((l) => JSON.parse(l));
  const mine = new Set(records.filter((r) => r.writer === writer).map((r) => r.n as number));
  for (let n = 0; n <= acked; n++) assert.ok(mine.has(n), `acknowledged record ${n} is there`);
  assert.deepEqual(records.filter((r) => r.writer === "after").map((r) => r.n), [0, 1, 2, 3, 4]);
  const chain = await verifyChain([{ file: path, text }]);
  assert.equal(chain.broken, null, JSON.stringify(chain.broken));
  assert.equal(chain.recovered.length, 1);
  return mine.size;
}

const after5 = () =>
  Array.from({ length: 5 }, (_, n) => JSON.stringify({ v: 1, writer: "after", n }));

test("torn tail: a report cut mid-line is ended, a recovered line written, and the chain goes on", async () => {
  for (const exitPath of [false, true]) {
    const path = await reportPath();
    const storage = createNodeFsStorage({ path });
    await storage.appendLines!(
      Array.from({ length: 10 }, (_, n) => JSON.stringify({ v: 1, writer: "w", n })),
    );
    await storage.close();
    const whole = readFileSync(path);
    // Cut the last record mid-line, as a crash mid-write leaves it.
    const cut = whole.subarray(0, whole.length - 17);
    writeFileSync(path, cut);
    const fragment = cut.subarray(cut.lastIndexOf(10) + 1);
    const next = createNodeFsStorage({ path });
    if (exitPath) next.appendLinesSync(after5());
    else await next.appendLines!(after5());
    await next.close();
    // Records 0…8 were whole; 9 was cut.
    assert.equal(await checkRecovered(path, fragment, 8, "w"), 9);
    const checked = await verify("--file", path);
    assert.equal(checked.code, 0, checked.out);
  }
});

test("torn tail: SIGKILL of a writer mid-write of 2 MB batches loses nothing acknowledged", async () => {
  let tries = 0;
  let torn: { acked: number; found: number; fragment: number } | null = null;
  let ackedTotal = 0;
  let foundTotal = 0;
  while (tries < 30 && torn === null) {
    tries++;
    const path = await reportPath();
    // The writer kills itself (SIGKILL) while a batch's write runs on the thread pool.
    const { child, stdout } = spawnWriter([
      path,
      "k",
      "1000000000",
      "8000",
      "200",
      String(1024 ** 3),
      "3",
      "killed-mid-write",
    ]);
    await exited(child);
    assert.equal(child.signalCode, "SIGKILL");
    const acked = lastAck(stdout());
    const bytes = readFileSync(path);
    const end = bytes.lastIndexOf(10);
    const whole = new TextDecoder().decode(bytes.subarray(0, end)).split("\n");
    const found = new Set(
      whole.map((l) => JSON.parse(l)).filter((r) => r.writer === "k").map((r) => r.n),
    );
    for (let n = 0; n <= acked; n++) assert.ok(found.has(n), `acknowledged record ${n} is there`);
    ackedTotal += acked + 1;
    foundTotal += Math.min(found.size, acked + 1);
    if (end === bytes.length - 1) {
      await rm(path, { force: true });
      continue;
    }
    const fragment = bytes.subarray(end + 1);
    const next = createNodeFsStorage({ path });
    await next.appendLines!(after5());
    await next.close();
    torn = {
      acked: acked + 1,
      found: await checkRecovered(path, fragment, acked, "k"),
      fragment: fragment.length,
    };
  }
  console.log(
    `[faults] SIGKILL mid-write (${runtimeKey()}): ${tries} tries, torn tail ${
      torn ? `found (${torn.fragment} bytes)` : "not seen"
    }; acknowledged ${ackedTotal}, found ${foundTotal}`,
  );
  assert.equal(foundTotal, ackedTotal);
});

test("a writer whose file was rotated and refilled to the size it left re-reads the chain", async () => {
  const path = await reportPath();
  const x = createNodeFsStorage({ path, maxBytes: 4096, backups: 2 });
  const y = createNodeFsStorage({ path, maxBytes: 4096, backups: 2 });
  await x.appendLines!([record(1, "x".repeat(2500))]);
  const left = statSync(path).size; // where x left the file
  const before = statSync(path).ino;
  // y's batch passes maxBytes (a rotation); then y tops the new file up to exactly `left`.
  await y.appendLines!([record(2, "y".repeat(2000))]);
  assert.notEqual(statSync(path).ino, before, "rotated");
  const ino = statSync(path).ino;
  const size = statSync(path).size;
  assert.ok(size < left, `the new file (${size} bytes) is still below ${left}`);
  const lastSeq = parsed(path).at(-1)!.seq as number;
  // A chained line is the record plus `{"seq":N,"prev":"<64 hex>",`: 82 bytes and N's digits.
  const fill = left - size - 82 - String(lastSeq + 1).length;
  const filler = record(5, "");
  await y.appendLines!([record(5, "z".repeat(fill - filler.length))]);
  assert.equal(statSync(path).size, left, "the new file has the size x left the old one");
  assert.equal(statSync(path).ino, ino);
  await x.appendLines!([record(6)]);
  await Promise.all([x.close(), y.close()]);
  const files = [backupName(path, 2), backupName(path, 1), path].filter((f) => existsSync(f));
  const chain = await verifyChain(
    await Promise.all(files.map(async (file) => ({ file, text: await readFile(file, "utf8") }))),
  );
  assert.equal(chain.broken, null, JSON.stringify(chain.broken));
  assert.equal(parsed(path).at(-1)!.seq, lastSeq + 2, "x continued from y's last line");
});

/** Starts a child that takes the report's lock and holds it until killed. */
async function lockHolder(path: string, viaTimeout = false): Promise<ChildProcess> {
  const [cmd, argv] = runtimeCommand(
    new URL("./support/report_writer.ts", import.meta.url).pathname,
    [path, "holder", "0", "1", "0", "0", "0", "hold"],
  );
  // `timeout` sends SIGTERM after 3 s: a runtime with no handler of its own dies of it, lock left.
  const [file, args] = viaTimeout ? ["timeout", ["-s", "TERM", "3", cmd, ...argv]] : [cmd, argv];
  const child = spawn(file, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  await until(() => out.includes("locked"));
  assert.match(out, /^locked/);
  return child;
}

test("stale lock: a holder killed (SIGKILL, or SIGTERM through timeout) is taken over at once; a 30k burst drops nothing", async () => {
  for (const how of ["no lock (baseline)", "SIGKILL", "SIGTERM via timeout"] as const) {
    const path = await reportPath();
    if (how !== "no lock (baseline)") {
      const holder = await lockHolder(path, how !== "SIGKILL");
      if (how === "SIGKILL") holder.kill("SIGKILL");
      await exited(holder);
      assert.ok(existsSync(`${path}.lock`), "the dead writer left its lock behind");
    }
    const { child, stdout } = spawnWriter([
      path,
      "burst",
      "30000",
      "50",
      "200",
      "1073741824",
      "3",
      "burst",
    ]);
    await exited(child);
    const waited = Number(/^waited (\d+)$/m.exec(stdout())?.[1]);
    const dropped = Number(/^dropped (\d+)$/m.exec(stdout())?.[1]);
    const found = parsed(path).filter((l) => l.writer === "burst").length;
    console.log(
      `[faults] stale lock, ${how} (${runtimeKey()}): first batch landed after ${waited} ms; burst 30000, dropped ${dropped}, found ${found}`,
    );
    assert.ok(waited < 1000, `waited ${waited} ms for a dead holder's lock`);
    assert.equal(dropped, 0);
    assert.equal(found, 30_000);
    assert.equal(existsSync(`${path}.lock`), false);
    assert.equal(
      (await verifyChain([{ file: path, text: await readFile(path, "utf8") }])).broken,
      null,
    );
  }
});

test("a live holder of the lock is waited for; its end lets the writer on at once", async () => {
  const path = await reportPath();
  const holder = await lockHolder(path);
  const storage = createNodeFsStorage({ path });
  let landed = 0;
  const writing = storage.appendLines!([record(1)]).then(() => (landed = performance.now()));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(landed, 0, "nothing written while the holder lives");
  assert.equal(existsSync(path), false);
  const killed = performance.now();
  holder.kill("SIGKILL");
  await writing;
  await storage.close();
  assert.ok(landed - killed < 1000, `written ${landed - killed} ms after the holder died`);
  assert.equal(parsed(path).filter((l) => l.event === "ai_call").length, 1);
});

test("lock takeover: a reused pid (another start time) and an old empty lock are stale; a fresh empty one is not", async () => {
  const path = await reportPath();
  const lockPath = `${path}.lock`;
  const storage = createNodeFsStorage({ path });
  // A live pid (this process) but another start time: the pid was reused.
  writeFileSync(
    lockPath,
    JSON.stringify({ pid: process.pid, host: hostname(), started: 1, ts: 1 }),
  );
  let t0 = performance.now();
  await storage.appendLines!([record(1)]);
  assert.ok(performance.now() - t0 < 500, "taken over at once");
  // An empty lock file older than 2 s: its writer died before writing who it was.
  writeFileSync(lockPath, "");
  utimesSync(lockPath, new Date(Date.now() - 5000), new Date(Date.now() - 5000));
  t0 = performance.now();
  await storage.appendLines!([record(2)]);
  assert.ok(performance.now() - t0 < 500, "taken over at once");
  // A fresh empty one: being written by a live writer this moment; waited for until it is 2 s old.
  writeFileSync(lockPath, "");
  t0 = performance.now();
  await storage.appendLines!([record(3)]);
  const waited = performance.now() - t0;
  assert.ok(waited >= 1500 && waited < 4000, `waited ${waited} ms`);
  await storage.close();
  assert.deepEqual(parsed(path).filter((l) => l.event === "ai_call").map((l) => l.n), [1, 2, 3]);
});

test("stale lock: several writers waiting on a dead holder's lock take it over one at a time, one chain", async () => {
  const path = await reportPath();
  const holder = await lockHolder(path);
  holder.kill("SIGKILL");
  await exited(holder);
  const writers = ["a", "b", "c"].map((w) => spawnWriter([path, w, "3000", "100", "100"]));
  await Promise.all(writers.map(({ child }) => exited(child)));
  const lines = parsed(path);
  const chain = await verifyChain([{ file: path, text: await readFile(path, "utf8") }]);
  assert.equal(chain.broken, null, JSON.stringify(chain.broken));
  assert.equal(lines.filter((l) => l.event === "ai_call").length, 9000);
  assert.deepEqual(lines.map((l) => l.seq), lines.map((_, i) => i + 1));
});

/** Last lines whose seq must never be continued from. */
const HOSTILE_SEQS: Record<string, string> = {
  "310 digits": "9".repeat(310),
  "1e400": "1e400",
  "unsafe": "9007199254740993",
  "fraction": "1.5",
  "negative": "-5",
  "zero": "0",
  "string": '"5"',
  "null": "null",
  "array": "[7]",
  "object": '{"n":1}',
};

test("hostile chain state: a last line with a broken seq is never continued from; the app's heartbeat keeps ticking", async () => {
  const hash = "a".repeat(64);
  const cases: Array<{ name: string; path: string; withValid: boolean; validLine?: string }> = [];
  for (const [name, seq] of Object.entries(HOSTILE_SEQS)) {
    for (const withValid of [true, false]) {
      const path = await reportPath();
      let validLine: string | undefined;
      if (withValid) {
        const storage = createNodeFsStorage({ path });
        await storage.appendLines!([record(1), record(2)]);
        await storage.close();
        validLine = readFileSync(path, "utf8").trimEnd().split("\n").at(-1)!;
      }
      const hostile = `{"seq":${seq},"prev":"${hash}","v":1,"event":"ai_call"}\n`;
      writeFileSync(path, (existsSync(path) ? readFileSync(path, "utf8") : "") + hostile);
      cases.push({ name, path, withValid, ...(validLine ? { validLine } : {}) });
    }
  }
  const [cmd, argv] = runtimeCommand(
    new URL("./support/hostile_tail_child.ts", import.meta.url).pathname,
    cases.map((c) => c.path),
  );
  const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ended = await Promise.race([
    exited(child).then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 30_000))),
  ]);
  clearTimeout(timer);
  if (!ended) child.kill("SIGKILL");
  assert.equal(ended, true, "the app ended (no writer loop froze it)");
  assert.equal(child.exitCode, 0);
  const [, ticks, ms] = /ticks (\d+) ms (\d+)/.exec(out)!.map(Number);
  console.log(
    `[faults] hostile seqs (${runtimeKey()}): ${cases.length} reports in ${ms} ms, heartbeat ${ticks} ticks`,
  );
  // A 5 ms heartbeat over the run: a frozen loop would leave it near zero.
  assert.ok(ticks! >= ms! / 5 / 4, `heartbeat ${ticks} ticks in ${ms} ms`);
  for (const c of cases) {
    const lines = readFileSync(c.path, "utf8").trimEnd().split("\n");
    const hostileAt = lines.findIndex((l) => l.includes(hash));
    const after = lines.slice(hostileAt + 1).map((l) => JSON.parse(l));
    if (c.withValid) {
      // Continued from the last line with a valid seq, past the broken one.
      const valid = JSON.parse(c.validLine!);
      assert.deepEqual(after.map((l) => l.seq), [valid.seq + 1, valid.seq + 2], c.name);
      assert.equal(after[0].prev, sha256Hex(c.validLine!), c.name);
    } else {
      // Nothing to continue from: a new chain segment that says why.
      assert.equal(after[0].event, "reset", c.name);
      assert.deepEqual(after.map((l) => l.seq), [1, 2, 3], c.name);
      assert.equal(after[0].prev, null);
      assert.match(after[0].reason, /seq/);
      assert.match(after[0].report, /^[0-9a-f]{32}$/);
    }
    assert.deepEqual(after.filter((l) => l.event === "ai_call").map((l) => l.n), [1, 2], c.name);
    if (c.withValid) {
      // verify names the broken line itself (it never reads the seq as a number to go on from).
      const chain = await verifyChain([{ file: c.path, text: readFileSync(c.path, "utf8") }]);
      assert.equal(chain.broken?.line, hostileAt + 1, c.name);
      assert.match(chain.broken!.reason, /not a positive safe integer/);
    }
  }
});

test("files: a new report directory is 0700, the report and its lock 0600", async () => {
  const path = join(await mkdtemp(join(dir, "modes-")), "deeper", "guard_log.jsonl");
  const holder = await lockHolder(path.replace("/deeper/guard_log.jsonl", "/held.jsonl"));
  assert.equal(
    statSync(path.replace("/deeper/guard_log.jsonl", "/held.jsonl.lock")).mode & 0o777,
    0o600,
  );
  holder.kill("SIGKILL");
  await exited(holder);
  const storage = createNodeFsStorage({ path });
  await storage.appendLines!([record(1)]);
  await storage.close();
  assert.equal(statSync(join(path, "..")).mode & 0o777, 0o700);
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test("files: a symlink at the report path is refused, its target untouched", async () => {
  const path = await reportPath();
  const target = join(dir, "target.txt");
  writeFileSync(target, "precious\n");
  symlinkSync(target, path);
  const storage = createNodeFsStorage({ path });
  await assert.rejects(storage.appendLines!([record(1)]), (error: Error & { code?: string }) => {
    assert.match(error.message, /is a symlink; refusing to follow it/);
    assert.equal(error.code, "EPERM", "a permission error: the queue falls back");
    return true;
  });
  assert.throws(() => storage.appendLinesSync([record(2)]), /is a symlink; refusing to follow it/);
  assert.equal(readFileSync(target, "utf8"), "precious\n");
  assert.equal(existsSync(`${path}.lock`), false, "the lock is released after the refusal");
});

test("files: a symlink at the lock path is never followed; once stale it is moved aside", async () => {
  const path = await reportPath();
  const target = join(dir, "lock-target.txt");
  writeFileSync(target, "precious\n");
  symlinkSync(target, `${path}.lock`);
  const old = new Date(Date.now() - 5000);
  lutimesSync(`${path}.lock`, old, old);
  const storage = createNodeFsStorage({ path });
  await storage.appendLines!([record(1)]);
  await storage.close();
  assert.equal(readFileSync(target, "utf8"), "precious\n");
  assert.equal(parsed(path).filter((l) => l.event === "ai_call").length, 1);
});

test("files: a report directory others can write, or another user owns, is refused; the queue falls back with one warning", async () => {
  const open = await mkdtemp(join(dir, "open-"));
  chmodSync(open, 0o777);
  const path = join(open, "guard_log.jsonl");
  const storage = createNodeFsStorage({ path });
  const fallback = createMemoryStorage();
  const fellBack: string[] = [];
  const queue = new RecordQueue(storage, {
    proc: { runtime: runtimeKey(), service: null, pid: 1 },
    onDrop: () => assert.fail("nothing is dropped"),
    onFailure: (error) => assert.fail(String(error)),
    fallback: () => fallback,
    onFallback: (error) => void fellBack.push((error as Error).message),
  });
  for (let i = 0; i < 3; i++) {
    queue.push(JSON.parse(record(i)));
    await queue.flush();
  }
  assert.equal(fellBack.length, 1, "one warning");
  assert.match(fellBack[0]!, /writable by others \(mode 777\); refusing to write there/);
  assert.equal(fallback.records().length, 3, "the records went to the fallback");
  assert.equal(existsSync(path), false);
  assert.throws(() => storage.appendLinesSync([record(9)]), /writable by others/);
  assert.equal(existsSync(path), false);
  // Another user's directory (when this test may hand one over: it runs as root).
  const getuid = (process as { getuid?: () => number }).getuid;
  if (getuid?.() === 0) {
    const theirs = await mkdtemp(join(dir, "theirs-"));
    chownSync(theirs, 4242, 4242);
    const other = createNodeFsStorage({ path: join(theirs, "guard_log.jsonl") });
    await assert.rejects(
      other.appendLines!([record(1)]),
      /belongs to uid 4242, not to this user \(0\)/,
    );
    assert.deepEqual(readdirSync(theirs), []);
  }
});

test("appendLinesSync while the writer's batch still waits for the lock: that batch does not write its lines again", async () => {
  const path = await reportPath();
  const holder = await lockHolder(path);
  const storage = createNodeFsStorage({ path });
  const waitingBatch = [record(1), record(2)];
  const landed = storage.appendLines!(waitingBatch);
  await new Promise((r) => setTimeout(r, 50)); // the batch waits for the live holder
  holder.kill("SIGKILL");
  await exited(holder);
  // The exit path comes first: it takes the dead holder's lock and writes everything pending.
  storage.appendLinesSync([...waitingBatch, record(3)]);
  await landed;
  await storage.close();
  assert.deepEqual(parsed(path).filter((l) => l.event === "ai_call").map((l) => l.n), [1, 2, 3]);
  assert.equal(
    (await verifyChain([{ file: path, text: readFileSync(path, "utf8") }])).broken,
    null,
  );
});
