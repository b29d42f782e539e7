/**
 * A worker that makes one AI call over fetch (attested or not) and answers how it went: `ok 200`,
 * or the error's name and its cause's. Started by `tests/guard_workers.test.ts` as a
 * `worker_threads` worker (the job in `workerData`) or a Web Worker (the job as a message).
 */
import { parentPort, workerData } from "node:worker_threads";
import { attest } from "../../mod.ts";

interface Job {
  url: string;
  attested: boolean;
}

async function call(job: Job): Promise<string> {
  const send = async () => {
    const response = await fetch(job.url, { method: "POST", body: "{}" });
    await response.text();
    return `ok ${response.status}`;
  };
  try {
    return await (job.attested ? attest(send, { id: "worker-reviewed" })() : send());
  } catch (error) {
    const e = error as Error & { cause?: Error };
    return `${e.name}${e.cause ? ` ${e.cause.name}` : ""}`;
  }
}

if (workerData) parentPort!.postMessage(await call(workerData as Job));
else {
  const scope = globalThis as unknown as {
    onmessage: (event: { data: Job }) => void;
    postMessage(message: string): void;
  };
  scope.onmessage = async (event) => scope.postMessage(await call(event.data));
}
