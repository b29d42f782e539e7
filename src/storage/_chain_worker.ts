/**
 * The chain's writer thread (started by `_chain_thread.ts`): builds the same file storage as the
 * thread that started it, on this thread, and writes each batch it is handed, in order.
 *
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import type { ChainWorkerData, ChainWorkerReply } from "./_chain_thread.ts";
import { createBunFileStorage } from "./bun_file.ts";
import { createNodeFsStorage } from "./node_fs.ts";

const { kind, options } = workerData as ChainWorkerData;
const storageOptions = { ...options, path: String(options.path), writerThread: false };
const storage = kind === "bun-file"
  ? createBunFileStorage(storageOptions)
  : createNodeFsStorage(storageOptions);
const port = parentPort!;
let last: Promise<void> = Promise.resolve();

port.on("message", ({ id, lines }: { id: number; lines: string }) => {
  last = last.then(() => storage.append(lines)).then(
    () => port.postMessage({ id } satisfies ChainWorkerReply),
    (error: { message?: unknown; name?: unknown; code?: unknown }) =>
      port.postMessage(
        {
          id,
          error: {
            message: String(error?.message ?? error),
            name: String(error?.name ?? "Error"),
            ...(typeof error?.code === "string" ? { code: error.code } : {}),
          },
        } satisfies ChainWorkerReply,
      ),
  );
});
port.postMessage({ ready: true } satisfies ChainWorkerReply);
