// @runtimes deno bun node
/**
 * Attacks on what the report says (issue 22): code inside the app that gets hold of a record —
 * its `onRecord` callback, a custom sink, `records()` — must not be able to change what is
 * written (and sealed) after it: an unattested call rewritten `attested: true` would pass
 * `aiguard check`.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enableGuard, type GuardRecord } from "../mod.ts";
import { main } from "../cli.ts";

let dir: string;
let server: http.Server;
let url = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "aiguard-attack-records-"));
  server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("{}"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/chat/completions`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** Rewrites a record as attested and anonymous; says whether the record let it. */
function forge(record: GuardRecord, refused: string[], who: string): void {
  try {
    const r = record as { attested: boolean; call_site: string | null; stack: string[] };
    r.attested = true;
    r.call_site = null;
    r.stack.length = 0;
  } catch {
    refused.push(who);
  }
}

test("a record handed to onRecord, a custom sink and records() cannot be rewritten before it is written", async () => {
  const reportPath = join(dir, "forged.jsonl");
  const refused: string[] = [];
  const g = enableGuard({
    mode: "report",
    discover: false,
    reportPath,
    onRecord: (record) => forge(record, refused, "onRecord"),
    sinks: ["file", (record) => {
      if (record.event === "ai_call") forge(record, refused, "sink");
    }],
  });
  let viaRing = 0;
  try {
    await (await fetch(url, { method: "POST", body: "{}" })).text();
    // Still queued (the queue waits for company): the memory ring hands out the same record.
    for (const record of g.records()) {
      if (record.event === "ai_call") forge(record, refused, `records() ${++viaRing}`);
    }
  } finally {
    await g.disable();
  }
  assert.deepEqual(refused, ["sink", "onRecord", "records() 1"]);
  const written = (await readFile(reportPath, "utf8")).split("\n").filter(Boolean)
    .map((line) => JSON.parse(line)).filter((line) => line.event === "ai_call");
  assert.equal(written.length, 1);
  assert.equal(written[0].attested, false);
  assert.match(written[0].call_site, /attack_records\.test\.ts/);
  assert.ok(written[0].stack.length > 0);
  let out = "";
  const code = await main(["check", "--file", reportPath], {
    out: (t) => (out += t),
    err: (t) => (out += t),
  });
  assert.equal(code, 1, out);
});
