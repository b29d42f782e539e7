import { test } from "node:test";
import assert from "node:assert/strict";
import { startMockAiServer } from "../../support/mock_ai_server.ts";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

test("examples/deno: --preload auto guards the app; block stops the unattested call", async () => {
  const server = await startMockAiServer();
  const dir = await Deno.makeTempDir({ prefix: "aiguard-deno-example-" });
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--preload", "../../auto.ts", "main.ts"],
      cwd: new URL("../../../examples/deno/", import.meta.url).pathname,
      env: {
        AIGUARD_MODE: "block",
        AIGUARD_REPORT_PATH: `${dir}/guard_log.jsonl`,
        AIGUARD_SOCKET: `${dir}/none.sock`,
        OPENAI_BASE_URL: `${server.url}/v1`,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, decode(stderr));
    assert.match(decode(stdout), /attested: hello from mock/);
    assert.match(decode(stdout), /blocked: Unattested openai chat .* at main\.ts:\d+:\d+/);
    assert.equal(server.requests.length, 1);
    // The record (after the report's chain_start head line).
    const [record] = (await Deno.readTextFile(`${dir}/guard_log.jsonl`)).trim().split("\n")
      .filter((l) => JSON.parse(l).v === 1);
    assert.equal(JSON.parse(record!).action, "blocked");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

test("examples/deno-deploy: records of unattested calls land in Deno KV and export back", async () => {
  const server = await startMockAiServer();
  const dir = await Deno.makeTempDir({ prefix: "aiguard-deploy-example-" });
  const kvPath = `${dir}/guard.kv`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-kv",
      new URL("../../../examples/deno-deploy/main.ts", import.meta.url).pathname,
    ],
    env: { AIGUARD_KV_PATH: kvPath, OPENAI_BASE_URL: `${server.url}/v1`, PORT: "0" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    // Deno.serve prints its address on stderr.
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/Listening on http:\/\/[^\s]+:(\d+)/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`server exited: ${text}`);
      text += value;
    }
    const port = /Listening on http:\/\/[^\s]+:(\d+)/.exec(text)![1];
    reader.releaseLock();
    for (const path of ["/", "/reviewed", "/"]) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      assert.equal(response.status, 200);
      await response.text();
    }
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stderr.cancel().catch(() => {});
    await server.close();
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-kv",
      new URL("../../../cli.ts", import.meta.url).pathname,
      "export",
      "--kv",
      kvPath,
    ],
    stdout: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  const records = decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(records.length, 2);
  assert.ok(records.every((r) => r.attested === false && r.provider === "openai_compatible"));
});
