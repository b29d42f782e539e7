// @runtimes deno bun node
/**
 * One guard per process: a second physical copy of the package (a nested npm version, jsr + npm,
 * a preload beside a bundled copy) shares the first one's context store, guard and patches.
 */
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as A from "../mod.ts";
import { type GuardOwner, registry } from "../src/registry.ts";
import { freshContext } from "./support/mock_ai_server.ts";
import { installNetwork } from "./support/fake_network.ts";

let dir: string;
let B: typeof A;

before(async () => {
  // A copy on disk of its own: other module instances, other classes, other closures.
  dir = await mkdtemp(join(process.cwd(), ".tmp", "copy-"));
  await cp("src", join(dir, "src"), { recursive: true });
  await cp("mod.ts", join(dir, "mod.ts"));
  B = await import(pathToFileURL(join(dir, "mod.ts")).href) as typeof A;
});
after(() => rm(dir, { recursive: true, force: true }));
beforeEach(freshContext);

const AI = "https://api.openai.com/v1/chat/completions";

test("two copies are two module instances", () => {
  assert.notEqual(B.enableGuard, A.enableGuard);
  assert.notEqual(B.AttestationError, A.AttestationError);
});

test("attest() of copy B is honoured by the block-mode guard of copy A", async () => {
  const net = installNetwork();
  const guard = A.enableGuard({ mode: "block", sinks: ["memory"], discover: false });
  try {
    await B.attest(() => fetch(AI, { method: "POST", body: "{}" }), { id: "reviewed-in-b" })();
    assert.equal(net.seen.length, 1, "the reviewed call went out");
    assert.equal(B.isAttested(), false);
    // And the other way round: unattested in B's terms is blocked by A's guard, and the error is
    // an AttestationError for both copies.
    await assert.rejects(fetch(AI, { method: "POST", body: "{}" }), (error) => {
      assert.ok(error instanceof A.AttestationError);
      assert.ok(error instanceof B.AttestationError);
      return true;
    });
    assert.equal(net.seen.length, 1);
    assert.equal(guard.stats().calls, 2);
  } finally {
    await guard.disable();
    net.restore();
  }
});

test("both copies enabled: fetch is wrapped once and a call gives one record", async () => {
  const net = installNetwork();
  const a = A.enableGuard({ mode: "report", sinks: ["memory"], discover: false });
  const wrapped = globalThis.fetch;
  const b = B.enableGuard({ mode: "report", sinks: ["memory"], discover: false });
  try {
    assert.equal(globalThis.fetch, wrapped, "B reconfigured A's guard instead of wrapping again");
    await fetch(AI, { method: "POST", body: "{}" });
    assert.equal(net.seen.length, 1);
    assert.equal(a.records().length, 1);
    assert.deepEqual(b.records(), a.records(), "one guard, seen from either copy");
    await B.disableGuard();
    await A.disableGuard();
    assert.equal(globalThis.fetch, net.fake, "disabling restores fetch exactly");
  } finally {
    await A.disableGuard();
    net.restore();
  }
});

test("a copy with another record format: the newer takes over and says so once", async () => {
  const shared = registry();
  const said: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => void said.push(m);
  let tornDown = 0;
  const older: GuardOwner = {
    version: "0.0.1",
    v: 0,
    enable: () => assert.fail("the older guard must not serve"),
    disable: () => Promise.resolve(),
    flush: () => Promise.resolve(),
    teardown: () => void tornDown++,
  };
  shared.owner = older;
  try {
    const guard = A.enableGuard({ mode: "report", sinks: ["memory"], discover: false });
    assert.equal(tornDown, 1);
    assert.notEqual(shared.owner, older);
    await guard.disable();
    shared.owner = older;
    await A.disableGuard();
    assert.equal(tornDown, 2);
    assert.equal(said.filter((m) => m.includes("takes over")).length, 1, said.join("\n"));
  } finally {
    console.warn = warn;
    shared.owner = null;
  }
});

test("a newer copy with another record format takes over a live guard: the older one's patches are all undone first", async () => {
  // A third copy on disk, newer and writing another record format.
  const newer = join(dir, "newer");
  await cp("src", join(newer, "src"), { recursive: true });
  await cp("mod.ts", join(newer, "mod.ts"));
  for (
    const [file, from, to] of [
      ["src/version.ts", /VERSION = "[^"]+"/, 'VERSION = "99.0.0"'],
      ["src/report/record.ts", /RECORD_V = \d+/, "RECORD_V = 2"],
    ] as const
  ) {
    const path = join(newer, file);
    const text = await readFile(path, "utf8");
    assert.match(text, from);
    await writeFile(path, text.replace(from, to));
  }
  const C = await import(pathToFileURL(join(newer, "mod.ts")).href) as typeof A;
  const said: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => void said.push(m);
  const net = installNetwork();
  try {
    const a = A.enableGuard({ mode: "report", sinks: ["memory"], discover: false });
    const wrappedByA = globalThis.fetch;
    const c = C.enableGuard({ mode: "report", sinks: ["memory"], discover: false });
    assert.notEqual(globalThis.fetch, wrappedByA, "the newer copy wrapped the network itself");
    await fetch(AI, { method: "POST", body: "{}" });
    assert.equal(c.records().length, 1);
    assert.equal(a.records().length, 0, "the older guard records nothing once taken over");
    await C.disableGuard();
    assert.equal(globalThis.fetch, net.fake, "nothing of either copy is left on fetch");
    assert.equal(registry().owner, null);
    assert.equal(said.filter((m) => m.includes("99.0.0 takes over")).length, 1, said.join("\n"));
  } finally {
    console.warn = warn;
    await C.disableGuard();
    await A.disableGuard();
    net.restore();
  }
});
