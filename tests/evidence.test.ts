// @runtimes deno bun node
/**
 * Evidence that holds in an audit: the hash chain over the report and `aiguard verify`, and seals
 * signed with an Ed25519 key (`AIGUARD_SIGNING_KEY`), checked with `aiguard verify --key`.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../cli.ts";
import { createNodeFsStorage } from "../src/storage/node_fs.ts";
import { chainLines, sha256Hex } from "../src/storage/_chain.ts";
import { recordJson } from "./support/fixtures.ts";
import { keyPair } from "./support/keys.ts";

let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), "aiguard-evidence-"))));
after(() => rm(dir, { recursive: true, force: true }));

const record = (n: number) => recordJson({ ts: new Date().toISOString(), n }) + "\n";

async function report(name: string, count: number, options: { signingKey?: string } = {}) {
  const path = join(dir, name);
  const storage = createNodeFsStorage({ path, ...options });
  // Batches of three, as the queue writes them.
  for (let i = 1; i <= count; i += 3) {
    let lines = "";
    for (let j = i; j < Math.min(i + 3, count + 1); j++) lines += record(j);
    await storage.append(lines);
  }
  await storage.close?.();
  return path;
}

async function verify(...argv: string[]) {
  let out = "";
  let err = "";
  const code = await main(["verify", ...argv], {
    out: (t) => (out += t),
    err: (t) => (err += t),
  });
  return { code, out, err };
}

test("every written line carries seq and prev; verify says intact with the count and range", async () => {
  const path = await report("intact.jsonl", 10);
  const lines = (await readFile(path, "utf8")).trimEnd().split("\n");
  assert.equal(lines.length, 11, "the chain_start head line, then the 10 records");
  assert.match(lines[0]!, /^\{"seq":1,"prev":null,"event":"chain_start","report":"[0-9a-f]{32}"/);
  lines.forEach((line, i) => {
    const r = JSON.parse(line);
    assert.equal(r.seq, i + 1);
    assert.equal(r.prev, i === 0 ? null : sha256Hex(lines[i - 1]!));
    if (i > 0) assert.equal(r.n, i, "the record itself is kept");
  });
  const { code, out } = await verify("--file", path);
  assert.equal(code, 0);
  assert.match(out, /intact, 11 chained lines, seq 1–11 in 1 file/);
});

test("the chain over lines past ASCII, large batches (kept buffer) and small ones is intact", async () => {
  const path = join(dir, "unicode.jsonl");
  const storage = createNodeFsStorage({ path });
  const texts = ["café", "中文模型", "emoji 😀", "x".repeat(3000) + "é".repeat(3000), "plain"];
  const written: string[] = [];
  const batch = (count: number) =>
    Array.from({ length: count }, (_, i) => {
      const text = texts[(written.length + i) % texts.length]!;
      return JSON.stringify({ v: 1, n: written.length + i, text });
    });
  for (const count of [3, 400, 400, 2, 400, 1]) {
    const lines = batch(count);
    await storage.appendLines!(lines);
    written.push(...lines);
  }
  await storage.append(JSON.stringify({ v: 1, n: written.length, text: "ünïcode" }) + "\n");
  const text = await readFile(path, "utf8");
  const lines = text.trimEnd().split("\n");
  assert.equal(lines.length, written.length + 2, "head line, records, the last append");
  lines.slice(1, -1).forEach((line, i) => {
    const { seq: _seq, prev: _prev, ...record } = JSON.parse(line);
    assert.deepEqual(record, JSON.parse(written[i]!), `line ${i + 1} is the record as given`);
  });
  const { code, out } = await verify("--file", path);
  assert.equal(code, 0, out);
  assert.match(out, new RegExp(`intact, ${lines.length} chained lines`));
});

test("seq is written right where it gains a digit, and prev is the hash of the line before", () => {
  const lines = ['{"n":1}', '{"n":2}', "{}"];
  for (const start of [0, 8, 98, 999, 123456789, Number.MAX_SAFE_INTEGER - 2]) {
    const prior = start === 0 ? null : sha256Hex(`{"seq":${start}}`);
    const { bytes, state } = chainLines(lines, { seq: start, hash: prior });
    const written = new TextDecoder().decode(bytes).trimEnd().split("\n");
    assert.deepEqual(written.map((l) => JSON.parse(l).seq), [start + 1, start + 2, start + 3]);
    assert.deepEqual(
      written.map((l) => JSON.parse(l).prev),
      [prior, sha256Hex(written[0]!), sha256Hex(written[1]!)],
    );
    assert.deepEqual(state, { seq: start + 3, hash: sha256Hex(written[2]!) });
  }
});

test("a burst keeps the lock for the writer's next batch, releases it after, and shares the chain", async () => {
  const path = join(dir, "burst.jsonl");
  const lockPath = `${path}.lock`;
  const mine = createNodeFsStorage({ path });
  const other = createNodeFsStorage({ path }); // another writer (as another process would be)
  const batch = (writer: string, from: number) =>
    Array.from({ length: 100 }, (_, i) => JSON.stringify({ v: 1, writer, n: from + i }));
  const first = mine.appendLines!(batch("a", 0));
  const second = mine.appendLines!(batch("a", 100)); // waiting while the first is written
  const theirs = other.appendLines!(batch("b", 0));
  await first;
  assert.ok(existsSync(lockPath), "held for the batch that was waiting");
  await Promise.all([second, theirs]);
  assert.ok(!existsSync(lockPath), "released once no batch waits");
  const records = (await readFile(path, "utf8")).trimEnd().split("\n").map((l) => JSON.parse(l))
    .filter((r) => r.event !== "chain_start");
  assert.equal(records.length, 300);
  const a = records.filter((r) => r.writer === "a").map((r) => r.n);
  assert.deepEqual(a, Array.from({ length: 200 }, (_, i) => i), "one writer's batches in order");
  const { code, out } = await verify("--file", path);
  assert.equal(code, 0, out);
});

test("verify names the file and line of an edited, removed, inserted, swapped or cut line", async () => {
  const path = await report("tampered.jsonl", 8);
  const original = await readFile(path, "utf8");
  const lines = original.trimEnd().split("\n");
  const cases: Array<[string, string, RegExp]> = [
    [
      "edited",
      [...lines.slice(0, 3), lines[3]!.replace('"n":3', '"n":30'), ...lines.slice(4)].join("\n") +
      "\n",
      /tampered\.jsonl:4: seq 4: edited/,
    ],
    [
      "removed",
      [...lines.slice(0, 4), ...lines.slice(5)].join("\n") + "\n",
      /tampered\.jsonl:5: seq 6 follows seq 4: 1 line\(s\) removed/,
    ],
    [
      "inserted",
      [...lines.slice(0, 2), record(99).trimEnd(), ...lines.slice(2)].join("\n") + "\n",
      /tampered\.jsonl:3: a line without seq and prev: not part of the chain \(inserted\)/,
    ],
    [
      "duplicated",
      [...lines.slice(0, 6), lines[5], ...lines.slice(6)].join("\n") + "\n",
      /tampered\.jsonl:7: seq 6 follows seq 6/,
    ],
    [
      "swapped",
      [...lines.slice(0, 2), lines[3], lines[2], ...lines.slice(4)].join("\n") + "\n",
      /tampered\.jsonl:3: seq 4 follows seq 2/,
    ],
    [
      "truncated",
      original.slice(0, original.length - 20),
      /tampered\.jsonl:9: the last line is cut short/,
    ],
  ];
  for (const [kind, text, expected] of cases) {
    await writeFile(path, text);
    const { code, out } = await verify("--file", path);
    assert.equal(code, 1, kind);
    assert.match(out, expected, `${kind}: ${out}`);
  }
  await writeFile(path, original);
  assert.equal((await verify("--file", path)).code, 0);
});

test("the chain goes on across rotation; rotation dropping the oldest backup is no break", async () => {
  const path = join(dir, "rotated.jsonl");
  const storage = createNodeFsStorage({ path, maxBytes: 1024, backups: 2 });
  for (let i = 1; i <= 40; i++) await storage.append(record(i));
  const { code, out } = await verify("--file", path);
  assert.equal(code, 0, out);
  const [, count, first, last] = /intact, (\d+) chained lines, seq (\d+)–(\d+) in 3 files/.exec(
    out,
  )!;
  const live = (await readFile(path, "utf8")).trimEnd().split("\n");
  assert.equal(JSON.parse(live.at(-1)!).n, 40, "the newest record ends the live file");
  assert.equal(JSON.parse(live[0]!).event, "rotated", "the live file begins with its head line");
  assert.equal(JSON.parse(live.at(-1)!).seq, Number(last));
  assert.ok(Number(first) > 1, "the oldest lines went with the dropped backup");
  assert.equal(Number(count), Number(last) - Number(first) + 1);
});

test("verify fails closed on a missing report", async () => {
  const missing = await verify("--file", join(dir, "none.jsonl"));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /no report at/);
  assert.equal((await verify("--file", join(dir, "none.jsonl"), "--allow-missing")).code, 0);
});

test("seals: signed after every batch, verified with the public key; a wrong key is named", async () => {
  const signer = await keyPair(dir, "signer");
  const other = await keyPair(dir, "other");
  const path = await report("sealed.jsonl", 7, { signingKey: signer.privatePath });
  const text = await readFile(path, "utf8");
  const seals = text.trimEnd().split("\n").map((l) => JSON.parse(l)).filter((r) =>
    r.event === "seal"
  );
  assert.equal(seals.length, 3, "one seal per batch of three");
  assert.match(seals[0].key_id, /^[0-9a-f]{16}$/);
  // The key never reaches the report.
  const body = signer.privatePem.split("\n").slice(1, -2).join("");
  assert.equal(text.includes(body.slice(0, 40)), false);
  const good = await verify("--file", path, "--key", signer.publicPath);
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /3 seals verified \(key [0-9a-f]{16}\)/);
  const wrong = await verify("--file", path, "--key", other.publicPath);
  assert.equal(wrong.code, 1);
  assert.match(
    wrong.out,
    /sealed\.jsonl:5: seal of seq 4: signed by key [0-9a-f]{16}, not by this key/,
  );
  // An unsealed report checked with a key: no seal is a failure.
  const plain = await report("unsealed.jsonl", 3);
  const none = await verify("--file", plain, "--key", signer.publicPath);
  assert.equal(none.code, 1);
  assert.match(none.out, /seq 1–4 covered by no seal: the report does not end in a seal/);
});

test("a bad signing key: records are still written (unsealed), and the warning shows no key", async () => {
  const bad = join(dir, "bad.pem");
  await writeFile(
    bad,
    "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n",
  );
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => void warnings.push(m);
  try {
    const path = await report("badkey.jsonl", 3, { signingKey: bad });
    const lines = (await readFile(path, "utf8")).trimEnd().split("\n");
    assert.equal(lines.length, 4, "the head line and 3 records");
    assert.equal((await verify("--file", path)).code, 0);
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /not an Ed25519 private key in PKCS#8 PEM.*written without seals/);
  assert.doesNotMatch(warnings[0]!, /c2VjcmV0|secret/);
});
