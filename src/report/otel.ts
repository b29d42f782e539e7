/**
 * The OpenTelemetry step: a span `aiguard.ai_call` per record and a counter `aiguard.ai_calls`, when a
 * real TracerProvider is registered.
 *
 * The core does not import `@opentelemetry/api` (loading it is most of a cold import): it reads the
 * API's own global registry, where `trace.setGlobalTracerProvider()` (and Deno's built-in OTel)
 * put the provider, context manager and meter provider. No registry, no provider: one property
 * read per call. Only the `@aiguard/attest/otel` entry imports the API.
 *
 * @module
 */
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

type Attributes = Record<string, string | number | boolean>;

interface SpanLike {
  isRecording(): boolean;
  setAttribute(key: string, value: string): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

/** The parts of the API's global registry (`Symbol.for("opentelemetry.js.api.1")`) used here. */
interface OtelRegistry {
  trace?: {
    getTracer(name: string, version?: string): {
      startSpan(
        name: string,
        options: { kind: number; attributes: Attributes },
        ctx?: unknown,
      ): SpanLike;
    };
  };
  context?: { active(): unknown };
  metrics?: {
    getMeter(name: string, version?: string): {
      createCounter(name: string): { add(value: number, attributes: Attributes): void };
    };
  };
}

const REGISTRY = Symbol.for("opentelemetry.js.api.1");
const SPAN_KIND_CLIENT = 2; // SpanKind.CLIENT
const STATUS_ERROR = 2; // SpanStatusCode.ERROR

/**
 * Starts the span of a record when a real provider is registered; `null` when none is (the record
 * then goes down the chain). Asked anew for every record: a provider may be registered later.
 */
export function emitSpan(record: AnyRecord): Settle | null {
  if (record.event !== "ai_call") return null;
  const registry = (globalThis as { [REGISTRY]?: OtelRegistry })[REGISTRY];
  const provider = registry?.trace;
  if (provider === undefined) return null;
  const tracer = provider.getTracer(INSTRUMENTATION_NAME, VERSION);
  const span = tracer.startSpan(
    SPAN_NAME,
    { kind: SPAN_KIND_CLIENT, attributes: spanAttributes(record) },
    registry!.context?.active(),
  );
  if (!span.isRecording()) {
    span.end();
    return null;
  }
  registry!.metrics?.getMeter(INSTRUMENTATION_NAME, VERSION).createCounter(COUNTER_NAME).add(1, {
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
      span.setStatus({ code: STATUS_ERROR, message: "unattested AI call blocked" });
    } else if (error !== undefined) {
      const type = (error as { name?: unknown })?.name;
      span.setAttribute(ATTR.ERROR_TYPE, typeof type === "string" ? type : "Error");
      span.setStatus({ code: STATUS_ERROR });
    }
    span.end();
  };
}
