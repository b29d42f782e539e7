/**
 * The OpenTelemetry step: a span `aiguard.ai_call` per record and a counter `aiguard.ai_calls`, when a
 * real TracerProvider is registered. `@opentelemetry/api` is the package's only OTel import.
 *
 * @module
 */
import { context, metrics, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { VERSION } from "../version.ts";
import type { AnyRecord, GuardRecord } from "./record.ts";
import type { Settle } from "./sink.ts";

/** Span and metric attribute names, as constants. */
export const ATTR = {
  PROVIDER_NAME: "gen_ai.provider.name",
  OPERATION_NAME: "gen_ai.operation.name",
  REQUEST_MODEL: "gen_ai.request.model",
  SERVER_ADDRESS: "server.address",
  SERVER_PORT: "server.port",
  ERROR_TYPE: "error.type",
  ATTESTED: "aiguard.attested",
  ACTION: "aiguard.action",
  MODE: "aiguard.mode",
  CALL_SITE: "aiguard.call_site",
  DETECTOR: "aiguard.detector",
  TARGET: "aiguard.target",
  ATTESTATION_ID: "aiguard.attestation.id",
} as const;

/** Tracer and meter name. */
export const INSTRUMENTATION_NAME = "aiguard";
/** Span name. */
export const SPAN_NAME = "aiguard.ai_call";
/** Counter name. */
export const COUNTER_NAME = "aiguard.ai_calls";

function spanAttributes(r: GuardRecord): Record<string, string | number | boolean> {
  const attributes: Record<string, string | number | boolean> = {
    [ATTR.PROVIDER_NAME]: r.provider,
    [ATTR.ATTESTED]: r.attested,
    [ATTR.ACTION]: r.action,
    [ATTR.MODE]: r.mode,
    [ATTR.DETECTOR]: r.detector,
    [ATTR.TARGET]: r.target,
  };
  if (r.operation) attributes[ATTR.OPERATION_NAME] = r.operation;
  if (r.model) attributes[ATTR.REQUEST_MODEL] = r.model;
  if (r.server) attributes[ATTR.SERVER_ADDRESS] = r.server;
  if (r.port !== null) attributes[ATTR.SERVER_PORT] = r.port;
  if (r.call_site) attributes[ATTR.CALL_SITE] = r.call_site;
  if (r.attestation?.id) attributes[ATTR.ATTESTATION_ID] = r.attestation.id;
  return attributes;
}

/**
 * Starts the span of a record when a real provider is registered; `null` when none is (the record
 * then goes down the chain). Asked anew for every record: a provider may be registered later.
 */
export function emitSpan(record: AnyRecord): Settle | null {
  if (record.event !== "ai_call") return null;
  const tracer = trace.getTracer(INSTRUMENTATION_NAME, VERSION);
  const attributes = spanAttributes(record);
  const span: Span = tracer.startSpan(
    SPAN_NAME,
    { kind: SpanKind.CLIENT, attributes },
    context.active(),
  );
  if (!span.isRecording()) {
    span.end();
    return null;
  }
  metrics.getMeter(INSTRUMENTATION_NAME, VERSION).createCounter(COUNTER_NAME).add(1, {
    [ATTR.PROVIDER_NAME]: record.provider,
    [ATTR.ATTESTED]: record.attested,
    [ATTR.ACTION]: record.action,
  });
  let ended = false;
  return (error?: unknown) => {
    if (ended) return;
    ended = true;
    if (record.action === "blocked") {
      span.setAttribute(ATTR.ERROR_TYPE, "AttestationError");
      span.setStatus({ code: SpanStatusCode.ERROR, message: "unattested AI call blocked" });
    } else if (error !== undefined) {
      const type = (error as { name?: unknown })?.name;
      span.setAttribute(ATTR.ERROR_TYPE, typeof type === "string" ? type : "Error");
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  };
}
