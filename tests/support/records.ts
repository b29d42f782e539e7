/** Records as tests read them: the AI calls among a guard's records, and a sample record. */
import { type GuardRecord, makeRecord, type ProcessFacts } from "../../src/report/record.ts";

/** The `ai_call` records among `records` (dropped-count records left out). */
export function aiCalls(records: readonly unknown[]): GuardRecord[] {
  return (records as GuardRecord[]).filter((r) => r.event === "ai_call");
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
