/**
 * A live process that holds a report's lock and never lets go: a `sleep` stopped with SIGSTOP (as
 * Ctrl-Z or a breakpoint leaves a writer mid-batch), named in `<report>.lock` as the writer's lock
 * names its holder (Linux: the start time read from /proc).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";

/** When Linux says `pid` started (ms since the epoch), as the lock file records it. */
async function startedMs(pid: number): Promise<number> {
  const btime = Number(/^btime (\d+)$/m.exec(await readFile("/proc/stat", "utf8"))![1]) * 1000;
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  return btime + Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]) * 10;
}

/** Starts the stopped holder and writes its lock for `reportPath`; kill it with SIGKILL. */
export async function stoppedHolder(reportPath: string): Promise<ChildProcess> {
  const holder = spawn("sleep", ["120"], { stdio: "ignore" });
  await new Promise((resolve) => holder.once("spawn", resolve));
  holder.kill("SIGSTOP");
  const lock = { pid: holder.pid, host: hostname(), started: await startedMs(holder.pid!) };
  await writeFile(`${reportPath}.lock`, JSON.stringify({ ...lock, ts: Date.now() }) + "\n", {
    mode: 0o600,
  });
  return holder;
}
