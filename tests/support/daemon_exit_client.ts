// A child process for the daemon exit-path tests: a report-mode guard on AIGUARD_SOCKET (falling
// back to AIGUARD_REPORT_PATH) makes EXIT_BEFORE calls and flushes (the daemon acknowledges them),
// prints "acked", waits for the file EXIT_GO (the test has stopped the daemon meanwhile), makes
// EXIT_AFTER calls the daemon cannot acknowledge, and leaves by EXIT_HOW (process-exit, throw).
// Models `before-<i>` and `after-<i>`.
import { existsSync } from "node:fs";
import { enableGuard } from "../../mod.ts";
import { installNetwork } from "./fake_network.ts";

installNetwork(); // answers locally; the process ends without restoring it

const env = (name: string) => process.env[name];
const guard = enableGuard({ discover: false });
const calls = (name: string, n: number) =>
  Promise.all(
    Array.from({ length: n }, (_, i) =>
      fetch("https://api.openai.com/v1/chat/completions", {
        method: "POST",
        body: JSON.stringify({ model: `${name}-${i}` }),
      })),
  );

await calls("before", Number(env("EXIT_BEFORE") ?? "10"));
await guard.flush();
process.stdout.write("acked\n");
while (!existsSync(env("EXIT_GO")!)) await new Promise((r) => setTimeout(r, 10));
await calls("after", Number(env("EXIT_AFTER") ?? "10"));
// On the socket by now, and not acknowledged when the daemon is stopped.
await new Promise((r) => setTimeout(r, Number(env("EXIT_SETTLE_MS") ?? "50")));
if (env("EXIT_HOW") === "throw") throw new Error("the app failed");
process.exit(0);
