// A child process for end-to-end tests: enables the guard from AIGUARD_* variables, makes
// AIGUARD_CHILD_CALLS unattested AI calls through fetch (answered locally, nothing leaves the
// machine), flushes, and exits. Each call names its child and index in the model field.
import { enableGuard } from "../../mod.ts";
import { installNetwork } from "./fake_network.ts";

const env = (name: string) =>
  (globalThis as { Deno?: { env: { get(n: string): string | undefined } } }).Deno?.env.get(name) ??
    (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name];

installNetwork(); // answers locally; the process ends without restoring it

const guard = enableGuard();
const calls = Number(env("AIGUARD_CHILD_CALLS") ?? "1");
const name = env("AIGUARD_CHILD_NAME") ?? "child";
for (let i = 0; i < calls; i++) {
  await fetch("https://api.openai.com/v1/chat/completions", {
    method: "POST",
    body: JSON.stringify({ model: `${name}-${i}` }),
  });
}
// AIGUARD_CHILD_EXIT=normal leaves flushing to the guard's own exit hook.
if (env("AIGUARD_CHILD_EXIT") !== "normal") await guard.flush();
console.error(`child ${name}: ${JSON.stringify(guard.stats())}`);
