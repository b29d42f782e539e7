/**
 * aiguard finds AI provider calls (OpenAI, Anthropic, Gemini, Bedrock, Mistral, any
 * OpenAI-compatible server) that are not wrapped with {@link attest}, at runtime, on Deno, Bun, Node
 * and edge workers.
 *
 * @example Attest a reviewed code path and guard the rest
 * ```ts
 * import { attest, enableGuard } from "@aiguard/attest";
 *
 * const guard = enableGuard({ mode: "report", sinks: ["memory"] });
 * const reviewed = attest(async () => {
 *   // AI calls made here are attested
 * }, { id: "reviewed-path" });
 * await reviewed();
 * await guard.disable();
 * ```
 *
 * @module
 */
export {
  attest,
  type AttestDecorator,
  type AttestOptions,
  isAttested,
  wrap,
} from "./src/attest.ts";
export { AttestationError, type AttestationErrorDetails } from "./src/errors.ts";
export { type ContextStorage, setContextStorage } from "./src/context.ts";
export { VERSION } from "./src/version.ts";
export { disableGuard, enableGuard, flush, type Guard, type GuardStats } from "./src/guard.ts";
export type { GuardLogger, GuardOptions, SinkName, StorageAdapter } from "./src/config.ts";
export type { LineBatch } from "./src/report/line_batch.ts";
export type { ProviderRule } from "./src/detect/providers.ts";
export type { AttestationPolicy, RegisteredAttestation, Violation } from "./src/policy.ts";
export type {
  AnyRecord,
  Detector,
  DroppedRecord,
  GuardMode,
  GuardRecord,
  RecordAction,
} from "./src/report/record.ts";
export { RECORD_V } from "./src/report/record.ts";
export type { Sink } from "./src/report/sink.ts";
