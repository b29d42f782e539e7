/**
 * The kinds of worker an app can start, each running one AI call job (`worker_ai_call.ts`, or
 * CommonJS code with `eval: true`) and resolving with the worker's answer. Shared by
 * `tests/guard_workers.test.ts` and the app it starts under the preload (`worker_app.ts`).
 */
import threads, { Worker as ThreadWorker } from "node:worker_threads";

export const runtime = (globalThis as { Deno?: unknown }).Deno
  ? "deno"
  : (globalThis as { Bun?: unknown }).Bun
  ? "bun"
  : "node";

export const WORKER_FILE = new URL("./worker_ai_call.ts", import.meta.url);

/** CommonJS run with `eval: true`: Node runs no `--import` preload for it. */
export const EVAL_CODE = `
const { workerData, parentPort } = require("node:worker_threads");
fetch(workerData.url, { method: "POST", body: "{}" })
  .then((r) => r.text().then(() => "ok " + r.status))
  .catch((e) => e.name + (e.cause ? " " + e.cause.name : ""))
  .then((m) => parentPort.postMessage(m));
`;

export interface Job {
  url: string;
  attested: boolean;
}

export interface WorkerKind {
  name: string;
  runtimes: string[];
  /** Starts the worker on `job`; resolves with its answer once it has ended. */
  run(job: Job): Promise<string>;
}

function threadAnswer(worker: InstanceType<typeof ThreadWorker>): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer: string | null = null;
    worker.on("message", (m) => (answer = String(m)));
    worker.on("error", reject);
    worker.on("exit", () => answer === null ? reject(new Error("no answer")) : resolve(answer));
  });
}

export const WORKER_KINDS: WorkerKind[] = [
  {
    name: "a worker_threads Worker from a file",
    runtimes: ["node"],
    // A named import: Node's is re-synced to the guarded class.
    run: (job) => threadAnswer(new ThreadWorker(WORKER_FILE, { workerData: job })),
  },
  {
    name: "a worker_threads Worker from a file, through the module object",
    runtimes: ["node", "bun", "deno"],
    run: (job) => threadAnswer(new threads.Worker(WORKER_FILE, { workerData: job })),
  },
  {
    name: "a worker_threads Worker with eval: true",
    runtimes: ["node", "bun", "deno"],
    // Through the module object: Bun keeps the original class in a named import of a built-in.
    run: (job) => threadAnswer(new threads.Worker(EVAL_CODE, { eval: true, workerData: job })),
  },
  {
    name: "a Web Worker",
    runtimes: ["deno", "bun"],
    run: (job) =>
      new Promise((resolve, reject) => {
        const worker = new Worker(WORKER_FILE.href, { type: "module" });
        worker.onmessage = (event) => {
          resolve(String(event.data));
          // Its guard writes on its own: give the record time to reach the file, then end it.
          setTimeout(() => worker.terminate(), 300);
        };
        worker.onerror = (event) => {
          event.preventDefault();
          reject(new Error(event.message));
        };
        worker.postMessage(job);
      }),
  },
];
