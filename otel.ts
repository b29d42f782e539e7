/**
 * OpenTelemetry helpers: the attribute names aiguard writes ({@link ATTR}) and
 * {@link configureOtel}, a one-call OTLP/HTTP trace exporter setup.
 *
 * @module
 */
import { trace } from "@opentelemetry/api";
import { envVar, runtimeKey } from "./src/runtime.ts";
import { ATTR, COUNTER_NAME, INSTRUMENTATION_NAME, SPAN_NAME } from "./src/report/otel.ts";

export { ATTR, COUNTER_NAME, INSTRUMENTATION_NAME, SPAN_NAME };

/** Options of {@link configureOtel}; `OTEL_*` variables win over them. */
export interface ConfigureOtelOptions {
  /** `service.name`; `OTEL_SERVICE_NAME` wins. */
  serviceName?: string;
  /** OTLP/HTTP base endpoint, e.g. `http://localhost:4318`; `OTEL_EXPORTER_OTLP_ENDPOINT` wins. */
  endpoint?: string;
  /** `http/json` or `http/protobuf` (default); `OTEL_EXPORTER_OTLP_PROTOCOL` wins. */
  protocol?: "http/json" | "http/protobuf";
  /** Extra resource attributes; `OTEL_RESOURCE_ATTRIBUTES` entries win on conflict. */
  resourceAttributes?: Record<string, string>;
  /** Replace a provider that is already registered. */
  force?: boolean;
}

/** Whether a real TracerProvider is registered: a started span records. */
export function hasRealProvider(): boolean {
  const span = trace.getTracer(INSTRUMENTATION_NAME).startSpan("aiguard.probe");
  const recording = span.isRecording();
  span.end();
  return recording;
}

function parseResourceAttributes(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? "").split(",")) {
    const eq = pair.indexOf("=");
    if (eq > 0) {
      out[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(
        pair.slice(eq + 1).trim(),
      );
    }
  }
  return out;
}

async function load(name: string): Promise<Record<string, unknown>> {
  try {
    const specifier = name;
    return await import(specifier) as Record<string, unknown>;
  } catch {
    throw new Error(
      `configureOtel() needs the optional package ${name}: install @opentelemetry/sdk-trace-base, ` +
        `@opentelemetry/resources and @opentelemetry/exporter-trace-otlp-http (or -proto).`,
    );
  }
}

/**
 * Sets up an OTLP/HTTP trace exporter through the OpenTelemetry SDK packages (optional peers).
 * Resolves `false` and does nothing when a real provider is already registered, unless `force`.
 * On Deno, prefer the built-in exporter (`OTEL_DENO=true`): this then resolves `false`.
 *
 * @example
 * ```ts
 * import { configureOtel } from "@aiguard/attest/otel";
 *
 * await configureOtel({ serviceName: "billing", endpoint: "http://localhost:4318" });
 * ```
 */
export async function configureOtel(options: ConfigureOtelOptions = {}): Promise<boolean> {
  if (!options.force && hasRealProvider()) return false;
  if (runtimeKey() === "deno" && envVar("OTEL_DENO") === "true" && !options.force) return false;
  const serviceName = envVar("OTEL_SERVICE_NAME") ?? options.serviceName ?? "unknown_service";
  const base =
    (envVar("OTEL_EXPORTER_OTLP_ENDPOINT") ?? options.endpoint ?? "http://localhost:4318")
      .replace(/\/+$/, "");
  const protocol = envVar("OTEL_EXPORTER_OTLP_PROTOCOL") ?? options.protocol ?? "http/protobuf";
  if (protocol !== "http/json" && protocol !== "http/protobuf") {
    throw new TypeError(
      `configureOtel(): protocol must be http/json or http/protobuf, got ${protocol}.`,
    );
  }
  const attributes = {
    ...options.resourceAttributes,
    ...parseResourceAttributes(envVar("OTEL_RESOURCE_ATTRIBUTES")),
    "service.name": serviceName,
  };
  const sdk = await load("@opentelemetry/sdk-trace-base");
  const resources = await load("@opentelemetry/resources");
  const exporterModule = await load(
    protocol === "http/json"
      ? "@opentelemetry/exporter-trace-otlp-http"
      : "@opentelemetry/exporter-trace-otlp-proto",
  );
  const Exporter = exporterModule.OTLPTraceExporter as new (o: { url: string }) => unknown;
  const Processor = sdk.BatchSpanProcessor as new (e: unknown) => unknown;
  const Provider = sdk.BasicTracerProvider as new (o: object) => object;
  const resourceFromAttributes = resources.resourceFromAttributes as (a: object) => unknown;
  const provider = new Provider({
    resource: resourceFromAttributes(attributes),
    spanProcessors: [new Processor(new Exporter({ url: `${base}/v1/traces` }))],
  });
  if (options.force) trace.disable();
  return trace.setGlobalTracerProvider(provider as never);
}
