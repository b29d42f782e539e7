/**
 * What the scan keeps of a parsed file (its exports and pending calls) holds no part of the file's
 * source: oxc-parser hands names over as slices of the source text, and a kept slice kept the
 * whole text alive until the scan ended. Checked on a V8 heap snapshot (Node's `node:v8`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { getHeapSnapshot, writeHeapSnapshot } from "node:v8";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSync } from "oxc-parser";
import { analyze } from "../../../src/scan/analyze.ts";
import { scan } from "../../../src/scan/scan.ts";

/** The parts of a V8 heap snapshot (its JSON) that name and size its nodes. */
interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Sizes of the strings in a parsed V8 heap snapshot that start with `prefix` (or `match`). */
function stringSizes(
  snapshot: HeapSnapshot,
  prefix: string,
  match = (text: string) => text.startsWith(prefix),
): number[] {
  const fields: string[] = snapshot.snapshot.meta.node_fields;
  const types: string[] = snapshot.snapshot.meta.node_types[0];
  const [type, name, size] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
  const out: number[] = [];
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    if (!types[snapshot.nodes[i + type!]!]!.includes("string")) continue;
    if (match(String(snapshot.strings[snapshot.nodes[i + name!]!]))) {
      out.push(snapshot.nodes[i + size!]!);
    }
  }
  return out;
}

/** Sizes of the strings in this process's heap that start with `prefix`. */
async function stringsStartingWith(prefix: string): Promise<number[]> {
  const chunks: string[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(String(chunk));
  return stringSizes(JSON.parse(chunks.join("")), prefix);
}

/** Analyses a ~200 KB file that starts with `marker`; only what the scan would keep is returned. */
function analyseBigFile(marker: string) {
  // Built at run time: a literal would live in this module's code.
  const source = marker + `// ${"padding ".repeat(64)}\n`.repeat(400) +
    'import OpenAI from "openai";\n' +
    'import { completionsEndpoint } from "./endpoints.ts";\n' +
    "export class ProviderWithALongName {\n" +
    '  private readonly clientForCompletions = new OpenAI({ baseURL: "https://api.example.test/v1" });\n' +
    "  async completeWithTheClient(prompt: string) {\n" +
    "    return await this.clientForCompletions.completions.create({ prompt });\n" +
    "  }\n" +
    "  async requestTheEndpointDirectly(body: string) {\n" +
    '    return await fetch(completionsEndpoint("chat/completions"), { method: "POST", body });\n' +
    "  }\n" +
    "}\n" +
    "export const exportedConfiguration = { endpointPathForChat: `${completionsEndpoint}/chat` };\n";
  // As the scan parses: the AST handed over in one buffer, its names sliced from the text.
  const { program } = parseSync("provider.ts", source, { experimentalRawTransfer: true });
  const { exports, pending } = analyze(program, source, {
    resolveModule: (specifier) => (specifier.startsWith(".") ? specifier : null),
  });
  return { exports, pending, length: source.length };
}

/**
 * Scans `dir`, writing a heap snapshot at the scan's last progress report: it comes once every
 * call is classified, with the scan's state still alive.
 */
async function scanWithSnapshot(dir: string) {
  const snapshotPath = join(dir, "scan.heapsnapshot");
  let taken = false;
  const result = await scan({
    cwd: dir,
    progress: (done, total) => {
      if (done === total && !taken) taken = Boolean(writeHeapSnapshot(snapshotPath));
    },
  });
  assert.ok(taken, "no heap snapshot was taken during the scan");
  return { result, snapshotPath };
}

test("scan: the summaries kept past a file's tree hold none of its source text", async () => {
  const marker = `// aiguard-source-${crypto.randomUUID()}\n`;
  const kept = analyseBigFile(marker);
  // The parser keeps the last text it read until the next parse.
  parseSync("other.ts", "export {};\n", { experimentalRawTransfer: true });
  assert.ok(kept.exports.names.size >= 2);
  assert.ok(kept.pending.length >= 1, "the call through the imported endpoint waits for it");
  const sizes = await stringsStartingWith(marker.slice(0, -1));
  assert.deepEqual(sizes.filter((s) => s >= kept.length), [], "the source text is still held");
  assert.ok(kept.exports.names.has("ProviderWithALongName")); // kept alive until here
});

/** Sizes of the strings in a heap snapshot file that start with `prefix` (or `match`). */
async function stringsIn(
  path: string,
  prefix: string,
  match?: (text: string) => boolean,
): Promise<number[]> {
  return stringSizes(JSON.parse(await readFile(path, "utf8")), prefix, match);
}

test("scan: while a scan runs, no file's source text stays alive (imports, exports, pending calls)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-scan-memory-"));
  try {
    const marker = `// aiguard-source-${crypto.randomUUID()}`;
    const padding = `// ${"padding ".repeat(64)}\n`.repeat(200);
    await writeFile(
      join(dir, "endpoint_of_the_provider.ts"),
      `${marker} endpoint\n${padding}export const chatCompletionsEndpoint = "https://api.openai.com/v1/chat/completions";\n`,
    );
    for (let i = 0; i < 8; i++) {
      // Parsed (it calls fetch) and left pending on the imported URL.
      await writeFile(
        join(dir, `caller_${i}.ts`),
        `${marker} caller ${i}\n${padding}import { chatCompletionsEndpoint } from "./endpoint_of_the_provider.ts";\n` +
          "export async function sendTheRequest(body: string) {\n" +
          '  return await fetch(chatCompletionsEndpoint, { method: "POST", body });\n}\n',
      );
      // Not parsed (no request function, SDK or AI URL): only its imports are resolved.
      await writeFile(
        join(dir, `other_${i}.ts`),
        `${marker} other ${i}\n${padding}import { sendTheRequest } from "./caller_${i}.ts";\n` +
          "export const requestSender = sendTheRequest;\n",
      );
    }
    const { result, snapshotPath } = await scanWithSnapshot(dir);
    assert.equal(result.files, 17);
    assert.equal(result.sites.length, 8, "every caller's fetch is a site");
    const sizes = await stringsIn(snapshotPath, marker);
    // At most the text read last: the parser and the loop's frame hold it until the next file.
    const held = sizes.filter((s) => s >= padding.length);
    assert.ok(held.length <= 1, `${held.length} of 17 source texts are still held`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("scan: a text the kept summaries of several files hold is kept once", async () => {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-scan-texts-"));
  try {
    const url = `https://api.example.test/v1/${crypto.randomUUID()}`;
    for (let i = 0; i < 8; i++) {
      // Parsed (it calls fetch); its exported URL constant is kept for its importers.
      await writeFile(
        join(dir, `client_${i}.ts`),
        `export const endpointOfTheClient = "${url}";\n` +
          "export const send = (body: string) => fetch(endpointOfTheClient, { method: 'POST', body });\n",
      );
    }
    const { result, snapshotPath } = await scanWithSnapshot(dir);
    assert.equal(result.parsed, 8);
    // The URL alone (a copy may be a slice of a text one character longer), not a file's text.
    const copies = (await stringsIn(snapshotPath, url, (text) => text.trim() === url)).length;
    assert.ok(copies >= 1 && copies <= 2, `${copies} copies of the URL`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
