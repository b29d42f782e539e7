/** Lines held as bytes (the queue's batches): given back as they went in, chained as strings are. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { LineBatch, LineBuffer } from "../../src/report/line_batch.ts";
import { chainLines } from "../../src/storage/_chain.ts";
import { Buffer } from "node:buffer";

const LINES = [
  '{"v":1,"model":"gpt-4o-mini"}',
  '{"v":1,"service":"café ☕ 𝄞"}', // 2-, 3- and 4-byte UTF-8
  "{}",
  "not json: written outside the chain",
  `{"v":1,"pad":"${"x".repeat(70_000)}"}`, // past the buffer's first 64 KiB
  '{"v":1,"n":6}',
];

test("a LineBuffer gives its lines back in order, batch by batch, each as it went in", () => {
  const buffer = new LineBuffer();
  for (const line of LINES) buffer.push(line);
  assert.equal(buffer.count, LINES.length);
  const first = buffer.take(2);
  assert.equal(first.count, 2);
  assert.deepEqual(first.lines(), LINES.slice(0, 2));
  assert.equal(first.text(), `${LINES.slice(0, 2).join("\n")}\n`);
  buffer.push('{"v":1,"n":7}');
  assert.deepEqual(buffer.take(2).lines(), LINES.slice(2, 4));
  const rest = buffer.take(100);
  assert.deepEqual(rest.lines(), [...LINES.slice(4), '{"v":1,"n":7}']);
  assert.equal(buffer.count, 0);
  assert.deepEqual(first.lines(), LINES.slice(0, 2), "a batch taken keeps its lines");
  assert.deepEqual(buffer.take(10).lines(), []);
  buffer.push("{}");
  assert.deepEqual(buffer.take(1).lines(), ["{}"], "usable again once emptied");
});

test("chainLines over a LineBatch writes the same bytes and state as over the same lines as strings", () => {
  const start = { seq: 41, hash: "ab".repeat(32) };
  const lead = ['{"event":"chain_start","report":"r"}'];
  const asStrings = chainLines([...lead, ...LINES], start);
  const asBatch = chainLines([...lead, LineBatch.of(LINES)], start);
  assert.deepEqual(asBatch.state, asStrings.state);
  assert.equal(asBatch.state.seq, 41 + 6, "the lead and five JSON lines chained, one line not");
  assert.deepEqual(Buffer.from(asBatch.bytes), Buffer.from(asStrings.bytes));
  const fresh = { seq: 0, hash: null };
  assert.deepEqual(
    Buffer.from(chainLines([LineBatch.of(LINES)], fresh).bytes),
    Buffer.from(chainLines(LINES, fresh).bytes),
    "from the first line ever (prev null)",
  );
});

test("a batch taken whole keeps its bytes until given back; then its buffer takes the next lines", () => {
  const buffer = new LineBuffer();
  buffer.push(LINES[0]!);
  const first = buffer.take(10);
  buffer.push(LINES[1]!);
  const second = buffer.take(10);
  assert.deepEqual(first.lines(), [LINES[0]], "not overwritten by the next lines");
  assert.notEqual(second.bytes.buffer, first.bytes.buffer);
  buffer.giveBack(first);
  buffer.push(LINES[5]!);
  const third = buffer.take(10);
  assert.equal(third.bytes.buffer, first.bytes.buffer, "the buffer given back is used again");
  assert.deepEqual(third.lines(), [LINES[5]]);
  assert.deepEqual(second.lines(), [LINES[1]]);
});
