// @runtimes deno bun node
/**
 * The signing key is never printed by a guarded app (issue 22.2): a guard in report mode with a
 * bad AIGUARD_SIGNING_KEY (PEM text or a path) writes its records unsealed and says so once; with
 * the good PEM text it seals. Neither stdout, stderr nor the report holds the key's bytes.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../cli.ts";
import { keyPair } from "./support/keys.ts";
import { runtimeCommand } from "./support/runtime_command.ts";

const CHILD = fileURLToPath(new URL("./support/guarded_child.ts", import.meta.url));
let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), "aiguard-key-guard-"))));
after(() => rm(dir, { recursive: true, force: true }));

const bodyOf = (pem: string) => pem.split("\n").filter((l) => l && !l.startsWith("-----")).join("");

async function guarded(value: string, report: string): Promise<string> {
  const [cmd, args] = runtimeCommand(CHILD, []);
  return await new Promise((resolve, reject) =>
    execFile(cmd, args, {
      env: {
        ...process.env,
        AIGUARD_MODE: "report",
        AIGUARD_REPORT_PATH: report,
        AIGUARD_SOCKET: join(dir, "none.sock"),
        AIGUARD_SIGNING_KEY: value,
        AIGUARD_CHILD_CALLS: "2",
        NO_COLOR: "1",
      },
    }, (error, out, err) => (error ? reject(new Error(err)) : resolve(out + err)))
  );
}

test("a guarded app never prints its signing key: bad keys leave records unsealed, the good one seals", async () => {
  const good = await keyPair(dir, "good");
  const body = bodyOf(good.privatePem);
  const truncatedPath = join(dir, "truncated.pem");
  await writeFile(truncatedPath, good.privatePem.slice(0, 60));
  const cases: Array<[string, string, boolean]> = [
    ["good PEM text", good.privatePem, true],
    ["good path", good.privatePath, true],
    ["PEM text with a typo", good.privatePem.replace("BEGIN PRIVATE", "BEGIN PRIVTE"), false],
    ["truncated PEM text", good.privatePem.slice(0, 60), false],
    ["truncated file", truncatedPath, false],
    ["public key", good.publicPem, false],
    ["bare base64 body", body, false],
  ];
  for (const [name, value, seals] of cases) {
    const report = join(dir, `${name.replace(/\W+/g, "-")}.jsonl`);
    const printed = await guarded(value, report);
    const written = await readFile(report, "utf8");
    for (let i = 0; i + 12 <= body.length; i += 6) {
      const piece = body.slice(i, i + 12);
      assert.ok(!printed.includes(piece), `${name}: key bytes printed:\n${printed}`);
      assert.ok(!written.includes(piece), `${name}: key bytes in the report`);
    }
    const records = written.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.equal(records.filter((r) => r.event === "ai_call").length, 2, name);
    assert.equal(records.some((r) => r.event === "seal"), seals, `${name}: sealed`);
    if (!seals) assert.match(printed, /written without seals/, name);
    else {
      let out = "";
      const code = await main(["verify", "--file", report, "--key", good.publicPath], {
        out: (t) => (out += t),
        err: (t) => (out += t),
      });
      assert.equal(code, 0, `${name}: ${out}`);
    }
  }
});
