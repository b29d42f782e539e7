// @runtimes deno bun node
/**
 * Attacks on crash recovery as a crash would make them (issue 21/22): a torn tail that the real
 * writer recovers must verify as a recovered crash and leave `check` able to judge the report,
 * whatever byte the crash cut at — including right before the newline, and in the very first
 * write of a report.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../cli.ts";
import { createNodeFsStorage } from "../src/storage/node_fs.ts";
import { keyPair } from "./support/keys.ts";
import { recordJson } from "./support/fixtures.ts";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "aiguard-attack-recovery-"));
});
after(() => rm(dir, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out: out + err };
}

test("a crash that cut only the last newline: the next writer recovers it, verify names a crash (no key and with the key), check still judges", async () => {
  const pair = await keyPair(dir, "cut-newline");
  const path = join(dir, "cut-newline.jsonl");
  const first = createNodeFsStorage({ path, signingKey: pair.privatePath });
  // One unattested record, then an attested one written as the batch the crash tears.
  await first.appendLines!([recordJson({ call_site: "src/early.ts:1:1" })]);
  await first.close?.();
  // A batch written without its seal, cut by the crash right before its final "\n" (a short write
  // on a full disk ends anywhere, this byte included).
  const text = await readFile(path, "utf8");
  const last = JSON.parse(text.trimEnd().split("\n").at(-1)!);
  const { createHash } = await import("node:crypto");
  const prev = createHash("sha256").update(text.trimEnd().split("\n").at(-1)!).digest("hex");
  const torn = JSON.stringify({
    seq: last.seq + 1,
    prev,
    ...JSON.parse(recordJson({ call_site: "src/torn.ts:2:2" })),
  });
  await writeFile(path, text + torn);
  const next = createNodeFsStorage({ path, signingKey: pair.privatePath });
  await next.appendLines!([recordJson({ call_site: "src/later.ts:3:3", attested: true })]);
  await next.close?.();

  const nokey = await cli("verify", "--file", path);
  assert.equal(nokey.code, 0, nokey.out);
  assert.match(
    nokey.out,
    /recovered torn tail at .*cut-newline\.jsonl:\d+ \(a crash, not an edit\)/,
  );
  const keyed = await cli("verify", "--file", path, "--key", pair.publicPath);
  assert.equal(keyed.code, 0, keyed.out);
  // The torn record was written whole: check still sees both unattested call sites.
  const checked = await cli("check", "--file", path);
  assert.equal(checked.code, 1, checked.out);
  assert.match(checked.out, /src\/early\.ts:1:1/);
  assert.match(checked.out, /src\/torn\.ts:2:2/);
});

test("a crash in a report's very first write: the next writer recovers it, verify and check judge the report", async () => {
  const pair = await keyPair(dir, "first-write");
  const path = join(dir, "first-write.jsonl");
  const first = createNodeFsStorage({ path, signingKey: pair.privatePath });
  await first.appendLines!([recordJson({ call_site: "src/gone.ts:1:1" })]);
  await first.close?.();
  // The crash cut the first write inside its chain_start line: nothing whole reached the disk.
  await truncate(path, 30);
  const next = createNodeFsStorage({ path, signingKey: pair.privatePath });
  await next.appendLines!([recordJson({ call_site: "src/after.ts:2:2" })]);
  await next.close?.();

  const nokey = await cli("verify", "--file", path);
  assert.equal(nokey.code, 0, nokey.out);
  assert.match(nokey.out, /recovered torn tail at .*first-write\.jsonl:1 \(a crash, not an edit\)/);
  const keyed = await cli("verify", "--file", path, "--key", pair.publicPath);
  assert.equal(keyed.code, 0, keyed.out);
  // check must judge the record written after the crash, not fail closed on the recovery line.
  const checked = await cli("check", "--file", path);
  assert.equal(checked.code, 1, checked.out);
  assert.match(checked.out, /src\/after\.ts:2:2/);
});
