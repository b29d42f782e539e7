// @runtimes deno bun node
import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enableGuard } from "../mod.ts";
import {
  jsonErrorOffset,
  optionsFromConfigFile,
  parseConfigText,
  stripJsonc,
} from "../src/config_file.ts";
import { OPTIONS, optionsFromEnv, optionsMarkdown, resolveOptions } from "../src/config.ts";
import { readFile } from "node:fs/promises";

const VARS = [
  "AIGUARD_MODE",
  "AIGUARD_CONFIG",
  "AIGUARD_REPORT_PATH",
  "AIGUARD_SINKS",
  "AIGUARD_SERVICE",
  "AIGUARD_SOCKET",
  "AIGUARD_DISCOVER",
  "AIGUARD_TRACE_ATTESTED",
  "AIGUARD_MAX_BYTES",
  "AIGUARD_BACKUPS",
  "AIGUARD_SIGNING_KEY",
];
const saved = Object.fromEntries(VARS.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of VARS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

test("aiguard.jsonc accepts comments and trailing commas, and strings that look like regexps", () => {
  const text = `{
    // the mode for CI
    "mode": "block", /* inline */
    "providers": [{ "provider": "acme", "host": "/^llm\\\\.acme\\\\./i", "path": "// not a comment", },],
    "maxBytes": 2048,
  }`;
  const options = parseConfigText(text, "aiguard.jsonc");
  assert.equal(options.mode, "block");
  assert.equal(options.maxBytes, 2048);
  const rule = options.providers![0]!;
  assert.ok(rule.host instanceof RegExp);
  assert.equal((rule.host as RegExp).test("LLM.acme.internal"), true);
  assert.equal(rule.path, "// not a comment");
  assert.equal(stripJsonc('{"a": "x, }"}'), '{"a": "x, }"}');
});

test("config errors name the file, the key and what was expected", () => {
  assert.throws(
    () => parseConfigText('{ "mode": "loud" }', "/app/aiguard.jsonc"),
    /Invalid aiguard option "mode" in \/app\/aiguard\.jsonc: expected one of off, warn, report, block, got "loud"/,
  );
  assert.throws(
    () => parseConfigText('{ "colour": true }', "/app/aiguard.jsonc"),
    /Invalid aiguard option "colour" in \/app\/aiguard\.jsonc: expected one of the keys mode, discover, providers/,
  );
  assert.throws(
    () => parseConfigText('{ "backups": "three" }', "c.jsonc"),
    /"backups" in c\.jsonc: expected an integer ≥ 0, got "three"/,
  );
  assert.throws(
    () => parseConfigText('{ "traceAttested": 1 }', "c.jsonc"),
    /"traceAttested" in c\.jsonc: expected true or false, got number/,
  );
  assert.throws(
    () => parseConfigText('{ "discover": "no" }', "c.jsonc"),
    /"discover" in c\.jsonc: expected true or false, got "no"/,
  );
  assert.equal(parseConfigText('{ "discover": false }', "c.jsonc").discover, false);
  assert.throws(
    () => parseConfigText('{\n  "mode": "warn"\n  "backups": 1\n}', "c.jsonc"),
    /Invalid aiguard config file c\.jsonc: not valid JSONC at line 3/,
  );
  assert.throws(() => parseConfigText("[1]", "c.jsonc"), /expected an object at the top/);
  process.env.AIGUARD_MODE = "sometimes";
  assert.throws(
    () => optionsFromEnv(),
    /Invalid aiguard option "mode" in the environment \(AIGUARD_\*\): expected one of off, warn, report, block/,
  );
});

test("precedence: options in code > AIGUARD_* > aiguard.jsonc > defaults", async () => {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-config-"));
  try {
    const file = join(dir, "aiguard.jsonc");
    await writeFile(
      file,
      '{ "mode": "block", "service": "from-file", "backups": 7, "reportPath": "/file/path.jsonl" }',
    );
    process.env.AIGUARD_CONFIG = file;
    process.env.AIGUARD_SERVICE = "from-env";
    process.env.AIGUARD_REPORT_PATH = "/env/path.jsonl";
    const resolved = resolveOptions(
      { reportPath: "/code/path.jsonl" },
      optionsFromEnv(),
      optionsFromConfigFile(),
    );
    assert.equal(resolved.reportPath, "/code/path.jsonl"); // code beats env and file
    assert.equal(resolved.service, "from-env"); // env beats file
    assert.equal(resolved.mode, "block"); // file beats default
    assert.equal(resolved.backups, 7);
    assert.equal(resolved.maxBytes, 10 * 1024 * 1024); // default
    const guard = enableGuard({ sinks: ["memory"] });
    assert.equal(guard.mode, "block");
    await guard.disable();
    await writeFile(file, '{ "mode": 3 }');
    assert.throws(
      () => enableGuard(),
      new RegExp(`"mode" in ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`),
    );
    process.env.AIGUARD_CONFIG = join(dir, "missing.jsonc");
    assert.throws(() => enableGuard(), /Cannot read aiguard config file .*missing\.jsonc/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("AIGUARD_SINKS and AIGUARD_SOCKET are read as lists and paths", () => {
  process.env.AIGUARD_SINKS = "otel, file";
  process.env.AIGUARD_SOCKET = "/run/aiguard.sock";
  const env = optionsFromEnv();
  assert.deepEqual(env.sinks, ["otel", "file"]);
  assert.equal(env.socketPath, "/run/aiguard.sock");
  process.env.AIGUARD_SINKS = "otel,carrier-pigeon";
  assert.throws(() => optionsFromEnv(), /"sinks" in the environment/);
});

test("the JSON error position is found on every runtime (not only where JSON.parse says it)", () => {
  assert.equal(jsonErrorOffset('{"a": [1, 2.5e3, true, null, "x\\"y"]}'), -1);
  assert.equal(jsonErrorOffset('{"a": }'), 6);
  assert.equal(jsonErrorOffset('{"a": 1 "b": 2}'), 8);
  assert.equal(jsonErrorOffset("[1, 2"), 5);
  assert.equal(jsonErrorOffset('{"a": 1} x'), 9);
});

test("AIGUARD_DISCOVER, AIGUARD_TRACE_ATTESTED, AIGUARD_MAX_BYTES and AIGUARD_BACKUPS are read", () => {
  process.env.AIGUARD_DISCOVER = "0";
  process.env.AIGUARD_TRACE_ATTESTED = "yes";
  process.env.AIGUARD_MAX_BYTES = "4096";
  process.env.AIGUARD_BACKUPS = "5";
  assert.deepEqual(optionsFromEnv(), {
    discover: false,
    traceAttested: true,
    maxBytes: 4096,
    backups: 5,
  });
  process.env.AIGUARD_DISCOVER = "maybe";
  assert.throws(
    () => optionsFromEnv(),
    /"discover" in the environment \(AIGUARD_\*\): expected true or false, got "maybe"/,
  );
});

test("a bad regex in providers names the file and the key; a UTF-8 BOM is accepted", () => {
  assert.throws(
    () =>
      parseConfigText(
        '{ "providers": [{ "provider": "x", "host": "/ab(c/" }] }',
        "/app/aiguard.jsonc",
      ),
    (error: Error) => {
      assert.equal(error.name, "TypeError");
      assert.match(
        error.message,
        /^Invalid aiguard option "providers\[0\]\.host" in \/app\/aiguard\.jsonc: expected a valid regular expression, got "\/ab\(c\/"/,
      );
      return true;
    },
  );
  const withBom = parseConfigText(
    '\uFEFF// settings\n{ "mode": "report", "backups": 4 }',
    "b.jsonc",
  );
  assert.deepEqual(withBom, { mode: "report", backups: 4 });
});

test("one options table: every variable it names is honoured, and the README lists it as it is", async () => {
  for (const spec of OPTIONS) {
    if (spec.env === null || !spec.code) continue;
    // Read as a value of this option, or refused naming it: either way the variable was read.
    process.env[spec.env] = "[not valid]";
    try {
      const read = optionsFromEnv() as Record<string, unknown>;
      assert.notEqual(read[spec.key], undefined, `${spec.env} is read for ${spec.key}`);
    } catch (error) {
      assert.match((error as Error).message, new RegExp(`"${spec.key}" in the environment`));
    }
    delete process.env[spec.env];
  }
  process.env.AIGUARD_SIGNING_KEY = "/keys/signing.pem";
  assert.equal(resolveOptions().signingKey, "/keys/signing.pem", "from the environment only");
  assert.equal(resolveOptions().backups, 3);
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const listed = /<!-- options:start -->\n\n([\s\S]*?)\n\n<!-- options:end -->/.exec(readme)?.[1];
  assert.equal(listed, optionsMarkdown(), "run: deno run -A scripts/readme_options.ts");
});
