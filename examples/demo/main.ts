// The demo: a small app that calls OpenAI and Anthropic through their real SDK clients, against a
// loopback server (./ai_server.ts), with the guard in report mode. Some calls are attested, some
// are not; the demo prints what the guard caught, grouped by call site. Then what a user sees in
// the report file the guard wrote (hash-chained JSONL): `aiguard report`, the CI gate
// (`aiguard check`), its integrity (`aiguard verify`, also on a copy with one line edited). Last,
// block mode, as a test suite runs it: the unattested call throws before any byte is sent.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { attest, AttestationError, enableGuard, type GuardRecord } from "../../mod.ts";
import { main as aiguard } from "../../cli.ts";
import { startAiServer } from "./ai_server.ts";

const server = await startAiServer();
const openai = new OpenAI({ apiKey: "sk-demo", baseURL: `${server.url}/v1` });
const anthropic = new Anthropic({ apiKey: "sk-ant-demo", baseURL: server.url });

// Enabled after the clients exist: prototype patching still catches their calls. Records go to
// memory (for the summary below) and to the report file (for the CLI).
const dir = await mkdtemp(join(tmpdir(), "aiguard-demo-"));
const reportPath = join(dir, "guard_log.jsonl");
const guard = enableGuard({
  mode: "report",
  sinks: ["memory", "file"],
  reportPath,
  clients: [OpenAI, Anthropic],
});

async function summarize(text: string): Promise<string> {
  const r = await openai.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: `Summarize: ${text}` }],
  });
  return r.choices[0]?.message.content ?? "";
}

async function classify(text: string): Promise<string> {
  const m = await anthropic.messages.create({
    model: "claude-haiku-4-5",
    max_tokens: 16,
    messages: [{ role: "user", content: `Classify: ${text}` }],
  });
  return m.content[0]?.type === "text" ? m.content[0].text : "";
}

// Reviewed path: attested.
const reviewedSummarize = attest(summarize, { id: "summarize-v1", reason: "REVIEW-101" });

await reviewedSummarize("quarterly report");
await summarize("an unreviewed path"); // unattested
await summarize("the same path again"); // unattested, same call site
await classify("a support ticket"); // unattested
await openai.embeddings.create({ model: "text-embedding-3-small", input: "hello" }); // unattested

const calls = guard.records().filter((r): r is GuardRecord => r.event === "ai_call");
const bySite = new Map<string, GuardRecord[]>();
for (const r of calls) {
  const site = r.call_site ?? "(unknown)";
  bySite.set(site, [...(bySite.get(site) ?? []), r]);
}
console.log(`aiguard demo: ${guard.stats().calls} AI calls, ${calls.length} unattested\n`);
for (const [site, records] of bySite) {
  const first = records[0]!;
  console.log(`${site}`);
  console.log(
    `  ${records.length} × ${first.provider} ${first.operation} (${first.target}) model ${first.model}`,
  );
}
console.log("\nFix: wrap the calling functions with attest().");
await guard.disable(); // flushes the report file

/** Shows text with the demo's temporary directory as $REPORT_DIR, indented under its heading. */
function show(text: string): void {
  process.stdout.write(text.replaceAll(dir, "$REPORT_DIR").replace(/^(?=.)/gm, "  "));
}

/** Runs one aiguard CLI command in this process, its output indented under the command line. */
async function cli(...argv: string[]): Promise<number> {
  console.log(`\n$ aiguard ${argv.join(" ").replaceAll(dir, "$REPORT_DIR")}`);
  const code = await aiguard(argv, { out: show, err: show });
  console.log(`  (exit ${code})`);
  return code;
}

const lines = (await readFile(reportPath, "utf8")).split("\n");
console.log(
  `\nThe report file ($REPORT_DIR/guard_log.jsonl): a head line naming the report, then one chained JSON line per record. The first record:`,
);
show(`${JSON.stringify(JSON.parse(lines[1]!), null, 2)}\n`);
const listed = await cli("report", "--file", reportPath);
const gate = await cli("check", "--file", reportPath);
const intact = await cli("verify", "--file", reportPath);
// An edit after the fact (a record turned into an attested one) breaks the chain where it is.
const edited = join(dir, "edited.jsonl");
await writeFile(
  edited,
  lines.with(1, lines[1]!.replace('"attested":false', '"attested":true')).join("\n"),
);
const broken = await cli("verify", "--file", edited);

// Block mode, as AIGUARD_MODE=block runs a test suite: an unattested call throws before it is sent.
console.log("\nBlock mode (AIGUARD_MODE=block in a test suite):");
const blocking = enableGuard({ mode: "block", sinks: ["memory"], clients: [OpenAI, Anthropic] });
const before = server.requests();
await reviewedSummarize("quarterly report");
console.log(`  attested call: answered (${server.requests() - before} request sent)`);
let blocked = false;
try {
  await summarize("an unreviewed path");
} catch (error) {
  if (!(error instanceof AttestationError)) throw error;
  blocked = server.requests() - before === 1;
  console.log(`  unattested call: ${error.name}: ${error.message}`);
  console.log(`  requests the server received for it: ${server.requests() - before - 1}`);
}
const record = blocking.records().find((r) => r.event === "ai_call");
console.log(`  its record: action ${record?.action}, call site ${record?.call_site}`);
await blocking.disable();

await server.close();
await rm(dir, { recursive: true, force: true });
// The demo shows the gate failing on purpose; it fails itself only if something did not behave.
process.exitCode = listed === 0 && gate === 1 && intact === 0 && broken === 1 && blocked &&
    record?.action === "blocked"
  ? 0
  : 1;
