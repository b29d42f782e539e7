/**
 * Reports in the agreed line formats (chain_start, records, seals binding the report id, rotation
 * lines, crash recovery), built line by line for verify's tests; and the attacker's tool: re-chain
 * lines after an edit, without the private key.
 */
import { writeFile } from "node:fs/promises";
import { sha256Hex } from "../../src/storage/_chain.ts";
import { backupName } from "../../src/storage/_rotating_file.ts";
import { sealMessage } from "../../src/storage/_seal.ts";
import type { SigningKey } from "../../src/storage/_signing_key.ts";
import { recordJson } from "./fixtures.ts";

/** 32 random lowercase hex characters: a report id. */
export function randomReportId(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Puts `seq` and `prev` first, as the chain writer does. */
function chained(seq: number, prev: string | null, body: Record<string, unknown>): string {
  const { seq: _s, prev: _p, ...rest } = body;
  return JSON.stringify({ seq, prev, ...rest });
}

/** Builds a report as a writer following the formats would. */
export class ReportBuilder {
  /** Files oldest first; the last is the live file. Each file is its lines (no newlines). */
  files: string[][] = [[]];
  seq = 0;
  hash: string | null = null;
  readonly report: string;
  readonly key: SigningKey | null;
  constructor(key: SigningKey | null = null, report = randomReportId()) {
    this.key = key;
    this.report = report;
  }
  /** Appends a chained line made of `body`. */
  push(body: Record<string, unknown>): string {
    const line = chained(++this.seq, this.hash, body);
    this.hash = sha256Hex(line);
    this.files.at(-1)!.push(line);
    return line;
  }
  start(): this {
    this.push({ event: "chain_start", report: this.report, ts: new Date().toISOString() });
    return this;
  }
  records(count: number, overrides: Record<string, unknown> = {}): this {
    for (let i = 0; i < count; i++) {
      this.push({ ...JSON.parse(recordJson(overrides)), n: this.seq + 1 });
    }
    return this;
  }
  seal(): this {
    const upto = this.seq;
    const hash = this.hash!;
    const sig = this.key!.sign(sealMessage(this.report, upto, hash));
    this.push({ event: "seal", report: this.report, upto, hash, sig, key_id: this.key!.keyId });
    return this;
  }
  /** Records then a seal, as one writer batch. */
  batch(count: number, overrides: Record<string, unknown> = {}): this {
    this.records(count, overrides);
    return this.key ? this.seal() : this;
  }
  /** Rotation with `backups` kept: a new live file headed by a rotated line. */
  rotate(backups: number): this {
    let droppedUpto: number | null = null;
    this.files.push([]);
    while (this.files.length - 1 > backups) {
      const dropped = this.files.shift()!;
      droppedUpto = JSON.parse(dropped.at(-1)!).seq;
    }
    this.push({
      event: "rotated",
      report: this.report,
      dropped_upto: droppedUpto,
      ts: new Date().toISOString(),
    });
    return this;
  }
  /** A torn fragment (a crash mid-write), then the next writer's recovery line. */
  tornThenRecovered(fragment: string): this {
    const file = this.files.at(-1)!;
    file.push(fragment);
    const afterSeq = this.seq;
    this.push({
      event: "recovered",
      torn_bytes: new TextEncoder().encode(fragment).length,
      after_seq: afterSeq,
      ts: new Date().toISOString(),
    });
    return this;
  }
  /** All lines, oldest first. */
  lines(): string[] {
    return this.files.flat();
  }
  /** Writes the files at `path` and its backups; returns `path`. */
  async write(path: string): Promise<string> {
    const n = this.files.length;
    for (let i = 0; i < n; i++) {
      const name = i === n - 1 ? path : backupName(path, n - 1 - i);
      const lines = this.files[i]!;
      await writeFile(name, lines.length ? lines.join("\n") + "\n" : "");
    }
    return path;
  }
}

/**
 * What an attacker without the key does after editing lines: recompute `seq` and `prev` of every
 * chained line from the first, so the chain alone shows nothing. Seals keep their signatures (the
 * attacker cannot sign) but get the new hash of the line they seal.
 */
export function rechain(lines: readonly string[]): string[] {
  const out: string[] = [];
  let seq: number | null = null;
  let hash: string | null = null;
  for (const line of lines) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(line);
    } catch {
      out.push(line);
      continue;
    }
    if (body.seq === undefined) {
      out.push(line);
      continue;
    }
    const first: boolean = seq === null;
    seq = first ? (body.seq as number) : seq! + 1;
    if (body.event === "seal") body = { ...body, upto: seq - 1, hash };
    // The first chained line keeps the prev it had: there is nothing before it to hash.
    const next = chained(seq, first ? (body.prev as string | null) : hash, body);
    hash = sha256Hex(next);
    out.push(next);
  }
  return out;
}
