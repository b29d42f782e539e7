/**
 * Records as tests read them: the AI calls among a guard's records or in a report file, and a
 * sample record.
 */
import { readFile } from "node:fs/promises";
import { type GuardRecord, makeRecord, type ProcessFacts } from "../../src/report/record.ts";

/** The `ai_call` records among `records` (dropped-count records left out). */
export function aiCalls(records: readonly unknown[]): GuardRecord[] {
  return (records as GuardRecord[]).filter((r) => r.event === "ai_call");
}

/**
 * The AI-call records in the report file at `path`, not the writer's own head, seal and dropped
 * lines (none when there is no file).
 */
export async function aiCallsIn(path: string): Promise<GuardRecord[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  return aiCalls(text.split("\n").filter(Boolean).map((line) => JSON.parse(line)));
}

/** The process facts of {@link sampleRecord}. */
export const PROC: ProcessFacts = { runtime: "node", service: null, pid: 1 };

/** A reported record of a manual call naming `model`. */
export function sampleRecord(model: string): GuardRecord {
  return makeRecord(
    {
      provider: "openai",
      operation: "chat",
      model,
      target: "t",
      detector: "manual",
      server: null,
      port: null,
    },
    { action: "reported", mode: "report", attestation: null, callSite: null, stack: [] },
    PROC,
  );
}
