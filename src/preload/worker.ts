/**
 * The first module of a worker started by a guarded app (the worker layer, `src/detect/worker.ts`,
 * puts it there): enables the guard in the worker with the options of the guard that started it,
 * before any of the worker's own code runs. On Node and Bun the options come as environment data;
 * Deno's boot module passes them to {@link startWorkerGuard}.
 *
 * @module
 */
import type { GuardOptions } from "../config.ts";
import {
  optionsFromWorkerOptions,
  WORKER_EXEC_ARGV_KEY,
  WORKER_OPTIONS_KEY,
  type WorkerOptions,
} from "../detect/worker.ts";
import { enableGuard } from "../guard.ts";
import { builtinModule } from "../runtime.ts";

/**
 * Enables the worker's guard; never throws (a worker must start even where its guard cannot, e.g.
 * a Deno worker without the permissions the options need).
 *
 * @example What Deno's boot module runs
 * ```ts
 * import { startWorkerGuard } from "./worker.ts";
 * startWorkerGuard({ mode: "block", sinks: ["file"], providers: [] });
 * ```
 */
export function startWorkerGuard(options: WorkerOptions): void {
  try {
    enableGuard(optionsFromWorkerOptions(options) as GuardOptions);
  } catch {
    // Unguarded rather than broken: the app's worker runs as it would without the guard.
  }
}

const threads = builtinModule<{ getEnvironmentData?(key: unknown): unknown }>(
  "node:worker_threads",
);

/**
 * Node: puts back the `process.execArgv` the worker would have had (the app's code may read it),
 * without this entry's flag and with the per-process flags Node refused to pass.
 */
function restoreExecArgv(): void {
  const argv = (globalThis as { process?: { execArgv?: string[] } }).process?.execArgv;
  const original = threads?.getEnvironmentData?.(WORKER_EXEC_ARGV_KEY);
  if (Array.isArray(argv) && Array.isArray(original)) argv.splice(0, argv.length, ...original);
}

const given = threads?.getEnvironmentData?.(WORKER_OPTIONS_KEY) as WorkerOptions | undefined;
if (given !== undefined) {
  restoreExecArgv();
  startWorkerGuard(given);
}
