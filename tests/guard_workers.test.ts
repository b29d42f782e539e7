// @runtimes deno bun node
/**
 * Workers the guarded app starts are guarded too: same mode, same report (the file sink, shared
 * under its lock), attestation scopes per thread. Each worker kind the runtime has makes a real
 * AI call to the loopback servers: report → the record is in the app's report file; block → the
 * worker's call fails with AttestationError and the servers receive nothing.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import process from "node:process";
import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attest, enableGuard, type GuardRecord } from "../mod.ts";
import { type AiServers, startAiServers } from "./support/ai_servers_client.ts";
import threads from "node:worker_threads";
import { runtime, WORKER_KINDS } from "./support/worker_kinds.ts";
import { barrier } from "./support/block_checks.ts";

let servers: AiServers;
let dir: string;
before(async () => {
  servers = await startAiServers();
  dir = await mkdtemp(join(tmpdir(), "aiguard-workers-"));
});
after(async () => {
  await servers.close();
  await rm(dir, { recursive: true, force: true });
});

/** The AI calls in the report file once it holds `atLeast` of them (or `ms` have passed). */
async function reportedCalls(path: string, atLeast: number, ms = 5_000): Promise<GuardRecord[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = await readFile(path, "utf8").catch(() => "");
    const calls = text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as GuardRecord)
      .filter((r) => r.event === "ai_call");
    if (calls.length >= atLeast || Date.now() > deadline) return calls;
    await new Promise((r) => setTimeout(r, 25));
  }
}

let files = 0;
function guard(mode: "report" | "block") {
  const reportPath = join(dir, `report-${++files}.jsonl`);
  const g = enableGuard({
    mode,
    sinks: ["file"],
    reportPath,
    socketPath: join(dir, "none.sock"),
    discover: false,
    service: "workers-test",
  });
  return { g, reportPath };
}

for (const kind of WORKER_KINDS) {
  const skip = !kind.runtimes.includes(runtime) && `${kind.name}: not on ${runtime}`;
  const chat = () => `${servers.http1}/v1/chat/completions`;

  test(`${kind.name}: report → its AI call is in the app's report`, { skip }, async () => {
    const { g, reportPath } = guard("report");
    try {
      // The app's attestation does not reach into the worker: scopes are per thread.
      const answer = await attest(() => kind.run({ url: chat(), attested: false }), {
        id: "parent-only",
      })();
      assert.equal(answer, "ok 200");
      const [r, ...rest] = await reportedCalls(reportPath, 1);
      assert.equal(rest.length, 0);
      assert.equal(r?.action, "reported");
      assert.equal(r?.provider, "openai_compatible");
      assert.equal(r?.service, "workers-test");
      assert.equal(r?.pid, process.pid, "the worker's record names this process");
      if (kind.name.includes("eval")) {
        // Code without a file: Node names it `[worker eval]-wrapper`, Deno a `data:` URL (neither
        // is a place in the app's files), Bun the worker's `blob:` URL.
        if (runtime === "bun") assert.match(String(r?.call_site), /^blob:[\w-]+:\d+:\d+$/);
        else assert.equal(r?.call_site, null);
      } else assert.match(String(r?.call_site), /^tests\/support\/worker_ai_call\.ts:\d+:\d+$/);
    } finally {
      await g.disable();
    }
  });

  test(`${kind.name}: an attested call inside the worker → no record`, {
    skip: skip || (kind.name.includes("eval") && "the eval worker has no attest()"),
  }, async () => {
    const { g, reportPath } = guard("report");
    try {
      assert.equal(await kind.run({ url: chat(), attested: true }), "ok 200");
      await barrier(servers);
      assert.deepEqual(await reportedCalls(reportPath, 1, 500), []);
    } finally {
      await g.disable();
    }
  });

  test(
    `${kind.name}: block → AttestationError in the worker, nothing arrives`,
    { skip },
    async () => {
      await barrier(servers);
      const { g, reportPath } = guard("block");
      try {
        const before = servers.seen.length;
        const answer = await kind.run({ url: chat(), attested: false });
        assert.match(answer, /AttestationError/);
        await barrier(servers);
        assert.deepEqual(
          servers.seen.slice(before).filter((s) => !s.path.startsWith("/barrier/")),
          [],
        );
        const [r] = await reportedCalls(reportPath, 1);
        assert.equal(r?.action, "blocked");
      } finally {
        await g.disable();
      }
    },
  );
}

function preloadCommand(app: string, arg: string): [string, string[]] {
  const exec = (globalThis as { Deno?: { execPath(): string } }).Deno?.execPath() ??
    process.execPath;
  if (runtime === "deno") return [exec, ["run", "-A", "--preload", "./auto.ts", app, arg]];
  if (runtime === "bun") return [exec, ["--preload", "./auto.ts", app, arg]];
  return [exec, ["--import", "./auto.ts", app, arg]];
}

test("under the preload (block mode), every worker the app starts is guarded", async () => {
  await barrier(servers);
  const reportPath = join(dir, "preload.jsonl");
  const [cmd, args] = preloadCommand(
    "tests/support/worker_app.ts",
    `${servers.http1}/v1/chat/completions`,
  );
  const before = servers.seen.length;
  const answers = await new Promise<Record<string, string>>((resolve, reject) =>
    execFile(cmd, args, {
      env: {
        ...process.env,
        AIGUARD_MODE: "block",
        AIGUARD_SINKS: "file",
        AIGUARD_REPORT_PATH: reportPath,
        AIGUARD_SOCKET: join(dir, "none.sock"),
      },
    }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split("\n").at(-1)!));
    })
  );
  const kinds = WORKER_KINDS.filter((k) => k.runtimes.includes(runtime)).map((k) => k.name);
  assert.deepEqual(Object.keys(answers), kinds);
  for (const name of kinds) assert.match(answers[name]!, /AttestationError/, name);
  await barrier(servers);
  assert.deepEqual(servers.seen.slice(before).filter((s) => !s.path.startsWith("/barrier/")), []);
  const blocked = await reportedCalls(reportPath, kinds.length);
  assert.deepEqual(blocked.map((r) => r.action), kinds.map(() => "blocked"));
});

test(
  "a guarded worker sees the process.execArgv it would see unguarded; disable restores Worker",
  {},
  async () => {
    const code = `require("node:worker_threads").parentPort.postMessage(process.execArgv)`;
    const argvIn = (eval_: boolean) =>
      new Promise<unknown>((resolve, reject) => {
        const worker = eval_ ? new threads.Worker(code, { eval: true }) : new threads.Worker(
          new URL(`data:text/javascript,${
            encodeURIComponent(
              `import { parentPort } from "node:worker_threads"; parentPort.postMessage(process.execArgv);`,
            )
          }`),
        );
        worker.once("message", resolve);
        worker.once("error", reject);
      });
    const Original = threads.Worker;
    const without = [await argvIn(true), await argvIn(false)];
    const { g } = guard("report");
    try {
      assert.notEqual(threads.Worker, Original);
      assert.deepEqual([await argvIn(true), await argvIn(false)], without);
    } finally {
      await g.disable();
    }
    assert.equal(threads.Worker, Original);
  },
);

test("the worker's guard has the app's providers rules, RegExps included", async () => {
  const kinds = WORKER_KINDS.filter((k) => k.runtimes.includes(runtime));
  const reportPath = join(dir, "rules.jsonl");
  const g = enableGuard({
    mode: "report",
    sinks: ["file"],
    reportPath,
    socketPath: join(dir, "none.sock"),
    discover: false,
    providers: [{ provider: "acme_llm", host: /^127\.0\.0\.1:\d+$/, path: /\/v1\/models$/ }],
  });
  try {
    for (const kind of kinds) {
      assert.equal(
        await kind.run({ url: `${servers.http1}/v1/models`, attested: false }),
        "ok 200",
      );
    }
    const calls = await reportedCalls(reportPath, kinds.length);
    assert.deepEqual(calls.map((r) => r.provider), kinds.map(() => "acme_llm"));
  } finally {
    await g.disable();
  }
});
