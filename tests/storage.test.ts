// @runtimes deno bun node
import { test } from "node:test";
import assert from "node:assert/strict";
import { createNodeFsStorage } from "../src/storage/node_fs.ts";
import { utf8Length, utf8LengthScan } from "../src/storage/_rotating_file.ts";
import { createMemoryStorage } from "../src/storage/memory.ts";
import { createConsoleStorage } from "../src/storage/console.ts";
import { fileStorageContract, storageContract } from "./support/storage_contract.ts";

fileStorageContract("node-fs", "aiguard-nodefs-", createNodeFsStorage);

storageContract("memory", () => {
  const storage = createMemoryStorage({ capacity: 5000 });
  return Promise.resolve({
    storage,
    read: () => Promise.resolve(storage.records().map((r) => JSON.stringify(r))),
    cleanup: () => Promise.resolve(),
  });
});

storageContract("console", () => {
  const logged: string[] = [];
  return Promise.resolve({
    storage: createConsoleStorage((l) => logged.push(l)),
    read: () => Promise.resolve(logged),
    cleanup: () => Promise.resolve(),
  });
});

test("rotation counts UTF-8 bytes without encoding the batch: same as TextEncoder", () => {
  const samples = [
    "",
    "plain ascii\n",
    "café — naïve\n",
    "日本語のテキスト\n",
    "emoji 🤖 and 🧪\n",
    "lone \ud800 high and \udc00 low surrogates\n",
    "\u2028\u2029\u0000\u007f\u0080\u07ff\u0800\uffff",
  ];
  for (const text of samples) {
    const expected = new TextEncoder().encode(text).length;
    assert.equal(utf8Length(text), expected, JSON.stringify(text));
    assert.equal(utf8LengthScan(text), expected, JSON.stringify(text));
  }
});
