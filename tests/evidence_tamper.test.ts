// @runtimes deno bun node
/**
 * The evidence-tamper suite (issue 22.1): each forgery built as an attacker would — without the
 * private key, re-chaining where they would — must fail `aiguard verify --key`, named; an
 * untampered sealed report (rotation included) and a recovered crash must not.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { appendFile, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createNodeFsStorage } from "../src/storage/node_fs.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../cli.ts";
import { loadSigningKey, type SigningKey } from "../src/storage/_signing_key.ts";
import { keyPair } from "./support/keys.ts";
import { rechain, ReportBuilder } from "./support/report_builder.ts";
import { recordJson } from "./support/fixtures.ts";

let dir: string;
let key: SigningKey;
let publicPath: string;
let otherPublic: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "aiguard-tamper-"));
  const pair = await keyPair(dir, "signer");
  key = loadSigningKey(pair.privatePem);
  publicPath = pair.publicPath;
  otherPublic = (await keyPair(dir, "other")).publicPath;
});
after(() => rm(dir, { recursive: true, force: true }));

async function verify(...argv: string[]) {
  let out = "";
  let err = "";
  const code = await main(["verify", ...argv], { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

let n = 0;
async function writeLines(lines: readonly string[]): Promise<string> {
  const path = join(dir, `forged-${++n}.jsonl`);
  await writeFile(path, lines.join("\n") + "\n");
  return path;
}

/** A sealed report: chain_start, then `batches` batches of three records, each sealed. */
async function sealed(batches: number): Promise<ReportBuilder> {
  const b = new ReportBuilder(key).start();
  for (let i = 0; i < batches; i++) await b.batch(3);
  return b;
}

const isSeal = (line: string) => JSON.parse(line).event === "seal";

test("an untampered sealed report verifies intact with its key, and with no key says what is unprotected", async () => {
  const path = await (await sealed(3)).write(join(dir, "clean.jsonl"));
  const good = await verify("--file", path, "--key", publicPath);
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /intact, 13 chained lines, seq 1–13 in 1 file, 3 seals verified/);
  const nokey = await verify("--file", path);
  assert.equal(nokey.code, 0, nokey.out);
  assert.match(nokey.out, /without --key the head and the tail are unprotected/);
  assert.match(nokey.out, /3 seals not checked/);
  const wrong = await verify("--file", path, "--key", otherPublic);
  assert.equal(wrong.code, 1);
  assert.match(
    wrong.out,
    /clean\.jsonl:5: seal of seq 4: signed by key [0-9a-f]{16}, not by this key/,
  );
});

test("a sealed report across rotations (backups dropped) verifies intact", async () => {
  const b = new ReportBuilder(key).start();
  for (let i = 0; i < 12; i++) {
    await b.batch(3);
    if (i % 2 === 1) b.rotate(2);
  }
  await b.batch(1);
  const path = await b.write(join(dir, "rotated.jsonl"));
  const { code, out } = await verify("--file", path, "--key", publicPath);
  assert.equal(code, 0, out);
  assert.match(out, /intact, \d+ chained lines, seq \d+–\d+ in 3 files, \d+ seals verified/);
  // Removing the oldest backup leaves a gap the newest rotation line names.
  await rm(join(dir, "rotated.2.jsonl"));
  const cut = await verify("--file", path, "--key", publicPath);
  assert.equal(cut.code, 1);
  assert.match(
    cut.out,
    /rotated\.1\.jsonl:1: the chain starts at seq \d+, but the newest rotation .* dropped up to seq \d+: lines between are missing/,
  );
});

test("forgery (a): a record edited to attested, the chain recomputed, the seals after it dropped", async () => {
  const lines = (await sealed(3)).lines();
  const target = 5; // a record of the second batch
  const edited = lines.map((l, i) =>
    i === target ? JSON.stringify({ ...JSON.parse(l), attested: true, action: "allowed" }) : l
  ).filter((l, i) => i < target || !isSeal(l));
  const path = await writeLines(rechain(edited));
  const { code, out } = await verify("--file", path, "--key", publicPath);
  assert.equal(code, 1, out);
  assert.match(
    out,
    /BROKEN at .*:\d+: seq 6–\d+ covered by no seal: the report does not end in a seal/,
  );
});

test("forgery (a'): the same edit keeping the seals (re-hashed) fails on the signature", async () => {
  const lines = (await sealed(3)).lines();
  const edited = lines.map((l, i) =>
    i === 5 ? JSON.stringify({ ...JSON.parse(l), attested: true, action: "allowed" }) : l
  );
  const path = await writeLines(rechain(edited));
  const { code, out } = await verify("--file", path, "--key", publicPath);
  assert.equal(code, 1, out);
  assert.match(out, /:9: seal of seq 8: its signature does not verify with this key/);
});

test("forgery (b): the last batch and its seal removed is caught against the seq an earlier verify saw", async () => {
  const b = await sealed(3);
  const full = await verify(
    "--file",
    await b.write(join(dir, "b-full.jsonl")),
    "--key",
    publicPath,
  );
  const seen = Number(/seq 1–(\d+)/.exec(full.out)![1]);
  const path = await writeLines(b.lines().slice(0, -4));
  const { code, out } = await verify(
    "--file",
    path,
    "--key",
    publicPath,
    "--min-seq",
    String(seen),
  );
  assert.equal(code, 1, out);
  assert.match(out, /the report ends at seq 9, before seq 13 that an earlier verify saw/);
});

test("forgery (c): only the last seal line removed", async () => {
  const path = await writeLines((await sealed(3)).lines().slice(0, -1));
  const { code, out } = await verify("--file", path, "--key", publicPath);
  assert.equal(code, 1, out);
  assert.match(out, /:12: seq 10–12 covered by no seal: the report does not end in a seal/);
});

test("forgery (d): the head removed, the report now starting at seq 122 with no backups", async () => {
  const lines = (await sealed(45)).lines();
  const kept = lines.slice(121);
  assert.equal(JSON.parse(kept[0]!).seq, 122);
  const path = await writeLines(kept);
  const { code, out } = await verify("--file", path, "--key", publicPath);
  assert.equal(code, 1, out);
  assert.match(out, /:1: the chain starts at seq 122 with no head line: seq 1–121 are gone/);
  // A forged rotation line in its place (the chain recomputed) breaks the seals instead.
  const forged = rechain([
    JSON.stringify({
      seq: 122,
      prev: JSON.parse(kept[0]!).prev,
      event: "rotated",
      report: JSON.parse(lines[0]!).report,
      dropped_upto: 121,
      ts: new Date().toISOString(),
    }),
    ...kept.slice(1),
  ]);
  const again = await verify("--file", await writeLines(forged), "--key", publicPath);
  assert.equal(again.code, 1, again.out);
  assert.match(again.out, /seal of seq \d+: its signature does not verify with this key/);
});

test("forgery (e): the first sealed batch kept, made-up unsealed records appended", async () => {
  const first = (await sealed(1)).lines();
  const madeUp = Array.from(
    { length: 20 },
    () =>
      JSON.stringify({
        seq: 0,
        prev: null,
        ...JSON.parse(recordJson({ attested: true, action: "allowed" })),
      }),
  );
  const path = await writeLines(rechain([...first, ...madeUp]));
  const { code, out } = await verify("--file", path, "--key", publicPath);
  assert.equal(code, 1, out);
  assert.match(out, /:25: seq 6–25 covered by no seal/);
});

test("forgery (f): another report's first sealed batch (same key) spliced in", async () => {
  const mine = (await sealed(2)).lines();
  const theirs = (await sealed(1)).lines();
  // Their records and seal after ours, the chain recomputed through them.
  const path = await writeLines(rechain([...mine, ...theirs.slice(1)]));
  const { code, out } = await verify("--file", path, "--key", publicPath);
  assert.equal(code, 1, out);
  assert.match(
    out,
    /:13: a seal of report [0-9a-f]{32}, in report [0-9a-f]{32} \(.*:1\): spliced from another report/,
  );
  // Their whole first batch in place of ours, head line included.
  const swapped = await writeLines(rechain([...theirs, ...mine.slice(5)]));
  const again = await verify("--file", swapped, "--key", publicPath);
  assert.equal(again.code, 1, again.out);
  assert.match(again.out, /spliced from another report/);
});

test("forgery (g): an unchained line inserted at the head", async () => {
  const path = await writeLines([
    recordJson({ attested: true, action: "allowed" }),
    ...(await sealed(2)).lines(),
  ]);
  for (const args of [["--key", publicPath], []]) {
    const { code, out } = await verify("--file", path, ...args);
    assert.equal(code, 1, out);
    assert.match(out, /:1: a line without seq and prev: not part of the chain \(inserted\)/);
  }
});

test("a crash-torn tail a later writer recovered: no key exits 0 naming it; with the key the unsealed tail is 'unsealed, recovered'", async () => {
  const b = await sealed(1);
  b.records(2); // written, then the writer was killed before its seal
  b.tornThenRecovered('{"seq":8,"prev":"0f3a');
  b.records(2); // the next writer, killed before its seal too
  const path = await b.write(join(dir, "crashed.jsonl"));
  const nokey = await verify("--file", path);
  assert.equal(nokey.code, 0, nokey.out);
  assert.match(nokey.out, /recovered torn tail at .*crashed\.jsonl:8 \(a crash, not an edit\)/);
  const keyed = await verify("--file", path, "--key", publicPath);
  assert.equal(keyed.code, 1, keyed.out);
  assert.match(
    keyed.out,
    /UNSEALED at .*crashed\.jsonl:9: unsealed, recovered: seq 6–10 after this crash recovery are covered by no seal/,
  );
  // Once a writer seals after the recovery, the report is intact again.
  await b.seal();
  await b.write(path);
  const resealed = await verify("--file", path, "--key", publicPath);
  assert.equal(resealed.code, 0, resealed.out);
  assert.match(resealed.out, /recovered torn tail at .*:8/);
});

test("a seal in the older format (no report id) does not pass verify --key", async () => {
  const b = await sealed(1);
  const lines = b.lines().map((l) => {
    const { report: _r, ...rest } = JSON.parse(l);
    return isSeal(l) ? JSON.stringify(rest) : l;
  });
  const path = await writeLines(rechain(lines));
  const { code, out } = await verify("--file", path, "--key", publicPath);
  assert.equal(code, 1, out);
  assert.match(out, /seal of seq 4: it names no report id/);
});

test("the real writer: a sealed report across rotations verifies intact; a torn tail it recovers is named", async () => {
  const pair = await keyPair(dir, "writer");
  const path = join(dir, "written.jsonl");
  const storage = createNodeFsStorage({
    path,
    maxBytes: 4096,
    backups: 2,
    signingKey: pair.privatePath,
  });
  for (let i = 0; i < 30; i++) {
    await storage.appendLines!([recordJson({ n: 2 * i }), recordJson({ n: 2 * i + 1 })]);
  }
  await storage.close?.();
  const files = (await readdir(dir)).filter((f) => f.startsWith("written."));
  assert.equal(files.length, 3, "rotated, two backups kept");
  const intact = await verify("--file", path, "--key", pair.publicPath);
  assert.equal(intact.code, 0, intact.out);
  assert.match(intact.out, /intact, \d+ chained lines, seq \d+–\d+ in 3 files, \d+ seals verified/);
  // A crash mid-write leaves a fragment; the next writer recovers it and seals after its batch.
  await appendFile(path, '{"seq":999,"prev":"0f1e2d');
  const next = createNodeFsStorage({
    path,
    maxBytes: 1 << 20,
    backups: 2,
    signingKey: pair.privatePath,
  });
  await next.appendLines!([recordJson({ n: 100 })]);
  await next.close?.();
  const recovered = await verify("--file", path, "--key", pair.publicPath);
  assert.equal(recovered.code, 0, recovered.out);
  assert.match(
    recovered.out,
    /recovered torn tail at .*written\.jsonl:\d+ \(a crash, not an edit\)/,
  );
  // Another crash, recovered by a writer with no key: the tail after it is unsealed, recovered.
  await appendFile(path, '{"seq":1000,"pr');
  const keyless = createNodeFsStorage({ path, maxBytes: 1 << 20, backups: 2 });
  await keyless.appendLines!([recordJson({ n: 101 })]);
  await keyless.close?.();
  const unsealed = await verify("--file", path, "--key", pair.publicPath);
  assert.equal(unsealed.code, 1, unsealed.out);
  assert.match(
    unsealed.out,
    /UNSEALED at .*written\.jsonl:\d+: unsealed, recovered: seq \d+–\d+ after this crash recovery/,
  );
});
