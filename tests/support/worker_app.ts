/**
 * An app started under the preload by `tests/guard_workers.test.ts`: starts every kind of worker
 * its runtime has, each making one unattested AI call to the URL in its first argument, and
 * prints their answers as one JSON line.
 */
import { runtime, WORKER_KINDS } from "./worker_kinds.ts";

const url = process.argv[2] ?? (globalThis as { Deno?: { args: string[] } }).Deno?.args[0];
const answers: Record<string, string> = {};
for (const kind of WORKER_KINDS.filter((k) => k.runtimes.includes(runtime))) {
  answers[kind.name] = await kind.run({ url: url!, attested: false });
}
console.log(JSON.stringify(answers));
