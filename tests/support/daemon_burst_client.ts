// A child process for the daemon fault tests: a report-mode guard on AIGUARD_SOCKET (falling back
// to AIGUARD_REPORT_PATH) makes rounds of AIGUARD_BURST_SIZE unattested AI calls at once (fetch,
// answered locally), for AIGUARD_BURST_ROUNDS rounds or until stdin says "stop". After each
// round's `flush()` resolves it prints `acked <round>`: every record of that round and before is
// then acknowledged, by the daemon or by the file queue it fell back to. Model `<round>-<i>`.
import { enableGuard } from "../../mod.ts";
import { installNetwork } from "./fake_network.ts";

const env = (name: string) =>
  (globalThis as { Deno?: { env: { get(n: string): string | undefined } } }).Deno?.env.get(name) ??
    (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name];

installNetwork(); // answers locally; the process ends without restoring it

const guard = enableGuard({ discover: false });
const size = Number(env("AIGUARD_BURST_SIZE") ?? "100");
const rounds = Number(env("AIGUARD_BURST_ROUNDS") ?? "50");
const out = (line: string) =>
  (globalThis as { process: { stdout: { write(t: string): void } } }).process.stdout.write(line);
for (let round = 0; round < rounds; round++) {
  await Promise.all(
    Array.from({ length: size }, (_, i) =>
      fetch("https://api.openai.com/v1/chat/completions", {
        method: "POST",
        body: JSON.stringify({ model: `${round}-${i}` }),
      })),
  );
  await guard.flush();
  out(`acked ${round}\n`);
}
await guard.disable();
out(`done ${JSON.stringify(guard.stats())}\n`);
