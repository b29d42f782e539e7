// A writer thread that gets ready, then dies on the first batch it is handed (for the test of
// what the storage does with a batch its thread was holding).
import { parentPort } from "node:worker_threads";

parentPort!.on("message", () => process.exit(3));
parentPort!.postMessage({ ready: true });
