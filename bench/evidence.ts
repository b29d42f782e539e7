// What the evidence costs: one seal (an Ed25519 signature over a line's hash, WebCrypto), and
// `aiguard verify` over a 40 MiB chained report (read, parse, hash every line). Medians of runs.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chainLines } from "../src/storage/_chain.ts";
import { auditReport } from "../src/report/audit.ts";
import { readReport } from "../src/report/reader.ts";
import { sealerFromKey } from "../src/storage/_seal.ts";
import { loadSigningKey } from "../src/storage/_signing_key.ts";
import { encodeJson } from "../src/report/record.ts";
import { median, sampleRecord } from "./_stats.ts";

const dir = await mkdtemp(join(tmpdir(), "aiguard-evidence-bench-"));
try {
  // A seal: sign the hash of a line.
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
  ]) as CryptoKeyPair;
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const pem = `-----BEGIN PRIVATE KEY-----\n${
    btoa(String.fromCharCode(...der))
  }\n-----END PRIVATE KEY-----\n`;
  const sealer = sealerFromKey(loadSigningKey(pem));
  const hash = "a".repeat(64);
  const reportId = "0".repeat(32);
  for (let i = 0; i < 200; i++) sealer.seal(i, hash, reportId);
  const sealRuns: number[] = [];
  for (let r = 0; r < 5; r++) {
    const start = performance.now();
    for (let i = 0; i < 2000; i++) sealer.seal(i, hash, reportId);
    sealRuns.push(((performance.now() - start) * 1000) / 2000);
  }

  // A 40 MiB chained report.
  const record = sampleRecord();
  const batch = Array<string>(1000).fill(encodeJson(record));
  const path = join(dir, "guard_log.jsonl");
  const parts: Uint8Array[] = [];
  // Headed as the writer heads a new report, so verify sees the chain's start accounted for.
  const head = chainLines([
    JSON.stringify({ event: "chain_start", report: reportId, ts: new Date().toISOString() }),
  ], {
    seq: 0,
    hash: null,
  });
  parts.push(head.bytes);
  let state = head.state;
  let size = head.bytes.length;
  while (size < 40 * 1024 * 1024) {
    const chained = chainLines(batch, state);
    state = chained.state;
    parts.push(chained.bytes);
    size += chained.bytes.length;
  }
  await writeFile(path, Buffer.concat(parts));
  const verifyRuns: number[] = [];
  let lines = 0;
  for (let r = 0; r < 3; r++) {
    const start = performance.now();
    // What `aiguard verify` does: read and classify every line, then audit the chain.
    const audit = await auditReport((await readReport(path)).lines, null);
    verifyRuns.push((performance.now() - start) / 1000);
    if (audit.finding) throw new Error(`bench report broken: ${audit.finding.reason}`);
    lines = audit.chained;
  }
  const seconds = median(verifyRuns);
  console.log(JSON.stringify({
    seal_us: median(sealRuns),
    verify_mib: size / 2 ** 20,
    verify_lines: lines,
    verify_seconds: seconds,
    verify_mib_per_s: size / 2 ** 20 / seconds,
  }));
} finally {
  await rm(dir, { recursive: true, force: true });
}
