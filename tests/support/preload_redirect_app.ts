/**
 * An application started with the preload (report mode) whose first fetch is redirected (307) from
 * an ordinary path to an AI one (`AIGUARD_TEST_URL`). Prints the targets of the AI-call records as
 * one JSON line.
 */
import { enableGuard, type GuardRecord } from "../../mod.ts";

const url = (globalThis as { process: { env: Record<string, string> } }).process.env
  .AIGUARD_TEST_URL!;
await (await fetch(url, { method: "POST", body: "{}" })).text();
const guard = enableGuard(); // the live guard (the same options): a handle on it
const records = (guard.records() as GuardRecord[]).filter((r) => r.event === "ai_call");
console.log(JSON.stringify(records.map((r) => r.target)));
