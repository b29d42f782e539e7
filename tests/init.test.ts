// @runtimes deno bun node
/**
 * `aiguard init` on a project with all three runtimes: what it writes, that --dry-run writes
 * nothing, and that a second run changes nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliIn } from "./support/cli_in.ts";
import { parseConfigText } from "../src/config_file.ts";
import { withBunPreload, withDenoPreload, withNodeImport } from "../src/cli/init_command.ts";

async function cli(dir: string, ...argv: string[]) {
  const { code, out, err } = await cliIn(dir, ...argv);
  return { code, out: out + err };
}

async function project(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-init-"));
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify(
      {
        name: "app",
        scripts: { start: "node src/main.js", test: "node --test && eslint .", lint: "eslint ." },
      },
      null,
      4,
    ),
  );
  await writeFile(
    join(dir, "deno.json"),
    JSON.stringify({ tasks: { dev: "deno run -A main.ts", fmt: "deno fmt" } }, null, 2),
  );
  await writeFile(join(dir, "bunfig.toml"), "[test]\ntimeout = 5000\n");
  await mkdir(join(dir, "src"));
  await writeFile(
    join(dir, "src", "main.js"),
    'import OpenAI from "openai";\nawait new OpenAI().chat.completions.create({ model: "m", messages: [] });\n',
  );
  return dir;
}

test("init wires every runtime's preload, a config and a CI workflow, and prints the first scan", async () => {
  const dir = await project();
  try {
    const dry = await cli(dir, "init", "--dry-run");
    assert.equal(dry.code, 0);
    assert.match(dry.out, /runtimes found: node, deno, bun/);
    assert.match(dry.out, /would write aiguard\.jsonc/);
    await assert.rejects(stat(join(dir, "aiguard.jsonc")), "--dry-run writes nothing");

    const first = await cli(dir, "init");
    assert.equal(first.code, 0);
    for (
      const file of [
        "aiguard.jsonc",
        "package.json",
        "deno.json",
        "bunfig.toml",
        ".github/workflows/aiguard.yml",
      ]
    ) {
      assert.match(first.out, new RegExp(`wrote ${file.replace(/\./g, "\\.")}`));
    }
    assert.match(first.out, /first scan: 1 unattested · 0 attested · 0% coverage/);
    // The config the guard reads, valid as written.
    const config = await readFile(join(dir, "aiguard.jsonc"), "utf8");
    assert.deepEqual(parseConfigText(config, "aiguard.jsonc"), { mode: "report" });
    const pkgText = await readFile(join(dir, "package.json"), "utf8");
    const pkg = JSON.parse(pkgText);
    assert.equal(pkg.scripts.start, "node --import @aiguard/attest/auto src/main.js");
    assert.equal(pkg.scripts.test, "node --import @aiguard/attest/auto --test && eslint .");
    assert.equal(pkg.scripts.lint, "eslint .");
    assert.match(pkgText, /\n {4}"name"/, "the file's own indentation is kept");
    const deno = JSON.parse(await readFile(join(dir, "deno.json"), "utf8"));
    assert.equal(deno.tasks.dev, "deno run --preload jsr:@aiguard/attest/auto -A main.ts");
    assert.equal(deno.tasks.fmt, "deno fmt");
    const bunfig = await readFile(join(dir, "bunfig.toml"), "utf8");
    assert.match(bunfig, /^preload = \["@aiguard\/attest\/auto"\]$/m);
    assert.match(bunfig, /\[test\]\ntimeout = 5000/);
    const ci = await readFile(join(dir, ".github/workflows/aiguard.yml"), "utf8");
    assert.match(ci, /aiguard scan --strict/);
    assert.match(ci, /AIGUARD_MODE: block/);

    const again = await cli(dir, "init");
    assert.match(again.out, /nothing to change, all in place/);
    assert.equal(await readFile(join(dir, "package.json"), "utf8"), pkgText, "idempotent");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the preload edits leave what is there already", () => {
  assert.equal(withNodeImport("node --import @aiguard/attest/auto a.js"), null);
  assert.equal(withNodeImport("vitest run"), null);
  assert.equal(
    withNodeImport("tsc && node dist/a.js"),
    "tsc && node --import @aiguard/attest/auto dist/a.js",
  );
  assert.equal(withDenoPreload("deno test -A"), "deno test --preload jsr:@aiguard/attest/auto -A");
  assert.equal(withDenoPreload("deno fmt"), null);
  assert.equal(
    withBunPreload('preload = ["./setup.ts"]\n'),
    'preload = ["./setup.ts", "@aiguard/attest/auto"]\n',
  );
  assert.equal(withBunPreload('preload = ["@aiguard/attest/auto"]\n'), null);
});
