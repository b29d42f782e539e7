// @runtimes deno bun node
import { afterEach, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { AttestationError, enableGuard, type GuardRecord } from "../mod.ts";
import { backupName } from "../src/storage/_rotating_file.ts";
import { verifyChain } from "./support/verify_report.ts";
import { freshContext } from "./support/mock_ai_server.ts";
import { type FakeNetwork, installNetwork } from "./support/fake_network.ts";
import { runtimeCommand } from "./support/runtime_command.ts";
import { recordLines } from "./support/storage_contract.ts";

let dir: string;
let net: FakeNetwork;

beforeEach(async () => {
  await freshContext();
  dir = await mkdtemp(join(tmpdir(), "aiguard-report-"));
  net = installNetwork();
});
afterEach(async () => {
  net.restore();
  trace.disable();
  context.disable();
  await rm(dir, { recursive: true, force: true });
});

const aiFetch = (model = "gpt-4o-mini") =>
  fetch("https://api.openai.com/v1/chat/completions", {
    method: "POST",
    body: JSON.stringify({ model }),
  });

/** The records in a report file (the chain's own head and seal lines left out). */
async function lines(path: string): Promise<GuardRecord[]> {
  return (await recordLines(path)).map((l) => JSON.parse(l));
}

function registerProvider() {
  const exporter = new InMemorySpanExporter();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  return exporter;
}

test("auto chain: a real TracerProvider gets one aiguard.ai_call span, child of the active span", async () => {
  const exporter = registerProvider();
  const reportPath = join(dir, "guard_log.jsonl");
  const guard = enableGuard({ mode: "report", reportPath, socketPath: join(dir, "none.sock") });
  try {
    await trace.getTracer("app").startActiveSpan("handle-request", async (parent) => {
      await aiFetch();
      parent.end();
    });
    await guard.flush();
    const spans = exporter.getFinishedSpans();
    const ai = spans.filter((s) => s.name === "aiguard.ai_call");
    assert.equal(ai.length, 1);
    const span = ai[0]!;
    const parent = spans.find((s) => s.name === "handle-request")!;
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(span.instrumentationScope.name, "aiguard");
    assert.deepEqual(span.attributes, {
      "gen_ai.provider.name": "openai",
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "gpt-4o-mini",
      "server.address": "api.openai.com",
      "server.port": 443,
      "aiguard.attested": false,
      "aiguard.action": "reported",
      "aiguard.mode": "report",
      "aiguard.detector": "fetch",
      "aiguard.target": "fetch POST api.openai.com/v1/chat/completions",
      "aiguard.call_site": (guard.records()[0] as GuardRecord).call_site!,
    });
    assert.deepEqual(await lines(reportPath), [], "a span was written, so no file line");
  } finally {
    await guard.disable();
  }
});

test("auto chain: a blocked call ends its span with ERROR and error.type", async () => {
  const exporter = registerProvider();
  const guard = enableGuard({
    mode: "block",
    reportPath: join(dir, "g.jsonl"),
    socketPath: join(dir, "x.sock"),
  });
  try {
    await assert.rejects(aiFetch(), AttestationError);
    assert.deepEqual(net.seen, []);
    const [span] = exporter.getFinishedSpans();
    assert.equal(span!.status.code, SpanStatusCode.ERROR);
    assert.equal(span!.attributes["error.type"], "AttestationError");
    assert.equal(span!.attributes["aiguard.action"], "blocked");
  } finally {
    await guard.disable();
  }
});

test("auto chain: no provider and no daemon → file (0600 in a 0700 dir); a later provider is picked up", async () => {
  const reportPath = join(dir, "sub", "guard_log.jsonl");
  const guard = enableGuard({ mode: "report", reportPath, socketPath: join(dir, "none.sock") });
  try {
    await aiFetch("first");
    await guard.flush();
    const written = await lines(reportPath);
    assert.equal(written.length, 1);
    assert.equal(written[0]!.model, "first");
    assert.equal((await stat(reportPath)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, "sub"))).mode & 0o777, 0o700);
    const exporter = registerProvider();
    await aiFetch("second");
    await guard.flush();
    assert.equal((await lines(reportPath)).length, 1);
    assert.equal(exporter.getFinishedSpans()[0]!.attributes["gen_ai.request.model"], "second");
  } finally {
    await guard.disable();
  }
});

test("auto chain: a listening daemon socket gets the lines; when it dies, the file takes over", async () => {
  const socketPath = join(dir, "guard.sock");
  const received: string[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let buffer = "";
    socket.on("data", (chunk) => {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const part of parts) {
        // The daemon protocol: a flush line is answered once what came before it is kept.
        const flush = JSON.parse(part) as { event?: string; id?: number };
        if (flush.event === "flush") socket.write(`{"ack":${flush.id}}\n`);
        else received.push(part);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const reportPath = join(dir, "guard_log.jsonl");
  const guard = enableGuard({ mode: "report", reportPath, socketPath });
  try {
    await aiFetch("a");
    await aiFetch("b");
    await guard.flush();
    for (let i = 0; i < 50 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(received.map((l) => JSON.parse(l).model), ["a", "b"]);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
    await new Promise((r) => setTimeout(r, 50));
    await aiFetch("c");
    await guard.flush();
    assert.deepEqual((await lines(reportPath)).map((r) => r.model), ["c"]);
  } finally {
    await guard.disable();
  }
});

test("a throwing sink and an unwritable file never break the host app's call; the failure is said once, the file's records go to stderr", async () => {
  const warnings: unknown[] = [];
  const printed: string[] = [];
  const error = console.error;
  console.error = (line: unknown) => void printed.push(String(line));
  const blocker = join(dir, "not-a-directory");
  await writeFile(blocker, "");
  const guard = enableGuard({
    mode: "report",
    sinks: ["file", () => {
      throw new Error("sink down");
    }],
    reportPath: join(blocker, "guard.jsonl"),
    logger: { warn: (...args: unknown[]) => warnings.push(args[0]) },
  });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await aiFetch()).status, 200);
    await guard.flush();
    assert.equal(warnings.length, 2, String(warnings));
    assert.ok(
      warnings.some((w) =>
        /the report cannot be written; records now go to stderr/.test(String(w))
      ),
    );
    assert.ok(warnings.some((w) => /custom sink #2 sink failed/.test(String(w))));
    assert.equal(guard.stats().dropped, 0);
    const records = printed.filter((line) => line.startsWith("{")).map((l) => JSON.parse(l));
    assert.equal(records.filter((r) => r.event === "ai_call").length, 3);
  } finally {
    console.error = error;
    await guard.disable();
  }
});

test("burst: 50,000 unattested calls → exactly 50,000 records after flush(), none dropped", async () => {
  const reportPath = join(dir, "burst.jsonl");
  const guard = enableGuard({ mode: "report", sinks: ["file"], reportPath, maxBytes: 1024 ** 3 });
  try {
    // A busy server: bursts of 1,000 calls, its event loop turning (timers, I/O) between them;
    // every 5,000 calls (half the queue) it waits for the writer, as a loaded machine may need.
    for (let burst = 1; burst <= 50; burst++) {
      const pending: Promise<Response>[] = [];
      for (let i = 0; i < 1_000; i++) pending.push(aiFetch());
      await Promise.all(pending);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (burst % 5 === 0) await guard.flush();
    }
    await guard.flush();
    const written = await lines(reportPath);
    assert.equal(guard.stats().dropped, 0);
    assert.equal(written.filter((r) => r.event === "ai_call").length, 50_000);
    assert.equal(guard.stats().unattested, 50_000);
  } finally {
    await guard.disable();
  }
});

test("a full queue drops and counts: 50,000 calls in one synchronous burst keep a full queue", async () => {
  const reportPath = join(dir, "burst-sync.jsonl");
  const guard = enableGuard({ mode: "report", sinks: ["file"], reportPath, maxBytes: 1024 ** 3 });
  try {
    const pending: Promise<Response>[] = [];
    for (let i = 0; i < 50_000; i++) pending.push(aiFetch());
    await Promise.all(pending);
    await guard.flush();
    const written = await lines(reportPath);
    const dropped = guard.stats().dropped;
    const calls = written.filter((r) => r.event === "ai_call");
    // The queue (10,000) fills while the loop never yields: that many are written, and at most
    // one batch (4,096) its writer took out before; the rest are dropped, counted, and the count
    // is written as a record once room returns.
    assert.ok(calls.length >= 10_000 && calls.length <= 10_000 + 4_096, `${calls.length} written`);
    assert.equal(calls.length + dropped, 50_000);
    const droppedRecords = written.filter((r) => (r as { event: string }).event === "dropped");
    assert.equal(
      droppedRecords.reduce((n, r) => n + (r as unknown as { count: number }).count, 0),
      dropped,
    );
  } finally {
    await guard.disable();
  }
});

test("rotation: 4 processes appending at once keep every line whole, and exactly 3 backups", async () => {
  const path = join(dir, "guard_log.jsonl");
  const perWriter = 300;
  const script = new URL("./support/rotation_writer.ts", import.meta.url).pathname;
  await Promise.all([0, 1, 2, 3].map((writer) => {
    const [cmd, args] = runtimeCommand(script, [path, String(writer), String(perWriter), "160000"]);
    return new Promise<void>((resolve, reject) =>
      execFile(cmd, args, (error, _out, stderr) => error ? reject(new Error(stderr)) : resolve())
    );
  }));
  const files = (await readdir(dir)).filter((f) => f.endsWith(".jsonl")).sort();
  assert.deepEqual(files, [
    "guard_log.1.jsonl",
    "guard_log.2.jsonl",
    "guard_log.3.jsonl",
    "guard_log.jsonl",
  ]);
  const seen = new Set<string>();
  for (const file of [path, backupName(path, 1), backupName(path, 2), backupName(path, 3)]) {
    const text = await readFile(file, "utf8");
    assert.ok(text.endsWith("\n"));
    assert.ok((await stat(file)).size <= 160000);
    for (const line of await recordLines(file)) {
      const r = JSON.parse(line) as { writer: string; n: number };
      const key = `${r.writer}:${r.n}`;
      assert.ok(!seen.has(key), `duplicate ${key}`);
      seen.add(key);
    }
  }
  // 4 × 300 lines of ~540 bytes (chained) ≈ 650 KB; the newest survive in 4 files of ≤ 160 KB.
  // What is gone is only the oldest: for each writer, the kept seqs are one contiguous newest run.
  for (const writer of ["0", "1", "2", "3"]) {
    const kept = [...seen].filter((k) => k.startsWith(`${writer}:`)).map((k) =>
      Number(k.split(":")[1])
    );
    kept.sort((a, b) => a - b);
    assert.equal(kept.at(-1), perWriter - 1);
    assert.equal(kept.length, kept.at(-1)! - kept[0]! + 1, `gap in writer ${writer}`);
  }
  // One hash chain through the four writers and the rotations: intact, seq contiguous.
  const chain = await verifyChain(
    await Promise.all(
      [backupName(path, 3), backupName(path, 2), backupName(path, 1), path].map(async (file) => ({
        file,
        text: await readFile(file, "utf8"),
      })),
    ),
  );
  assert.equal(chain.broken, null, JSON.stringify(chain.broken));
  const heads = (await Promise.all(
    [backupName(path, 3), backupName(path, 2), backupName(path, 1), path].map(async (file) =>
      (await readFile(file, "utf8")).split("\n").filter((l) =>
        /"event":"(?:chain_start|rotated)"/.test(l)
      ).length
    ),
  )).reduce((a, b) => a + b, 0);
  assert.equal(chain.lines, seen.size + heads, "the records and one head line per file");
  assert.equal(chain.lastSeq! - chain.firstSeq! + 1, chain.lines);
});

test("records are flushed on normal process exit, without an explicit flush()", async () => {
  const reportPath = join(dir, "exit.jsonl");
  const [cmd, args] = runtimeCommand(
    new URL("./support/guarded_child.ts", import.meta.url).pathname,
    [],
  );
  await new Promise<void>((resolve, reject) =>
    execFile(cmd, args, {
      env: {
        ...process.env,
        AIGUARD_MODE: "report",
        AIGUARD_REPORT_PATH: reportPath,
        AIGUARD_SOCKET: join(dir, "none.sock"),
        AIGUARD_CHILD_CALLS: "5",
        AIGUARD_CHILD_EXIT: "normal",
      },
    }, (error, _out, stderr) => (error ? reject(new Error(stderr)) : resolve()))
  );
  assert.deepEqual((await lines(reportPath)).map((r) => r.model), [
    "child-0",
    "child-1",
    "child-2",
    "child-3",
    "child-4",
  ]);
});

test("a throwing span processor never breaks the call; the failure is said once", async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({
      spanProcessors: [{
        onStart() {},
        onEnd() {
          throw new Error("exporter down");
        },
        forceFlush: () => Promise.resolve(),
        shutdown: () => Promise.resolve(),
      }],
    }),
  );
  const warnings: unknown[] = [];
  const guard = enableGuard({
    mode: "report",
    reportPath: join(dir, "g.jsonl"),
    socketPath: join(dir, "none.sock"),
    logger: { warn: (m: string) => warnings.push(m) },
  });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await aiFetch()).status, 200);
    await guard.flush();
    assert.equal(warnings.length, 1, String(warnings));
    assert.match(String(warnings[0]), /otel sink failed/);
  } finally {
    await guard.disable();
  }
});
