/**
 * Long scans show progress on a terminal and stay quiet when piped: the CLI run as a user would,
 * once in a pseudo-terminal (util-linux `script`), once with its output piped.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";

const node = process.execPath;
const args = ["cli.ts", "scan", "tests/fixtures/scan"];

function run(cmd: string, argv: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      cmd,
      argv,
      { env: { ...process.env, NO_COLOR: "1" } },
      (_error, stdout, stderr) => resolve({ stdout, stderr }),
    )
  );
}

test("aiguard scan: progress on a terminal, nothing extra when piped", async () => {
  const piped = await run(node, args);
  assert.match(piped.stdout, /unattested · \d+ attested/);
  assert.doesNotMatch(piped.stderr + piped.stdout, /aiguard scan: \d+\/\d+ files/);
  const quoted = [node, ...args].map((a) => `'${a}'`).join(" ");
  const terminal = await run("script", ["-qec", quoted, "/dev/null"]);
  assert.match(terminal.stdout, /aiguard scan: (\d+)\/\1 files/);
  assert.match(terminal.stdout, /unattested · \d+ attested/);
});
