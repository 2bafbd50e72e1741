import { context as contextApi, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';

export { SpanKind, SpanStatusCode, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';

const tracerName = '@gancho/telemetry';

export interface TelemetryOptions {
  /** `service.name`; OTEL_SERVICE_NAME wins when set. */
  serviceName: string;
  /** Defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Span processors of our own (tests: an in-memory exporter); tracing starts even without OTEL_* then. */
  spanProcessors?: SpanProcessor[];
}

export interface Telemetry {
  /** True when spans are recorded and exported; false means the API is a no-op. */
  readonly enabled: boolean;
  /** Flushes and stops exporting. */
  shutdown(): Promise<void>;
}

let started: { sdk: NodeSDK | undefined; telemetry: Telemetry } | undefined;

/**
 * Whether the standard OTEL_* variables ask for traces: an OTLP endpoint, or
 * an explicit OTEL_TRACES_EXPORTER other than `none`. Without either, nothing
 * starts, so a laptop run neither pays for spans nor logs export failures to
 * a collector that is not there.
 */
export function tracesConfigured(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env['OTEL_SDK_DISABLED']?.toLowerCase() === 'true') return false;
  const exporters =
    env['OTEL_TRACES_EXPORTER']
      ?.split(',')
      .map((e) => e.trim())
      .filter(Boolean) ?? [];
  if (exporters.length > 0) return !exporters.every((e) => e === 'none');
  return Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
}

/**
 * Starts the OpenTelemetry Node SDK once per process (later calls get the
 * first one): exporter, sampler, resource and limits all come from the
 * standard OTEL_* variables. No automatic instrumentation: spans are opened
 * explicitly with `withSpan`, where they mean something.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (started) return started.telemetry;
  const env = options.env ?? process.env;
  const enabled = Boolean(options.spanProcessors?.length) || tracesConfigured(env);
  if (!enabled) {
    started = { sdk: undefined, telemetry: { enabled: false, shutdown: async () => undefined } };
    return started.telemetry;
  }
  const sdk = new NodeSDK({
    serviceName: env['OTEL_SERVICE_NAME'] || options.serviceName,
    instrumentations: [],
    ...(options.spanProcessors?.length ? { spanProcessors: options.spanProcessors } : {}),
  });
  sdk.start();
  const telemetry: Telemetry = {
    enabled: true,
    shutdown: async () => {
      if (started?.sdk === sdk) started = undefined;
      await sdk.shutdown();
    },
  };
  started = { sdk, telemetry };
  return telemetry;
}

export interface SpanOptions {
  kind?: SpanKind;
  /** The parent; the active context by default. */
  parent?: Context;
  links?: Link[];
}

/**
 * Runs `fn` in a new span (active while it runs, so spans opened inside are
 * its children), ends it when `fn` settles, and records a thrown error on it.
 * Without a registered SDK the span is a no-op that still carries its
 * parent's trace context along.
 */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T> | T, options: SpanOptions = {}): Promise<T> {
  const parent = options.parent ?? contextApi.active();
  const span = trace.getTracer(tracerName).startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes, ...(options.links ? { links: options.links } : {}) }, parent);
  try {
    return await contextApi.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    recordError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Starts a span the caller ends (for work that is not one function call, like an HTTP request). */
export function startSpan(name: string, attributes: Attributes, options: SpanOptions = {}): Span {
  const parent = options.parent ?? contextApi.active();
  return trace.getTracer(tracerName).startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes, ...(options.links ? { links: options.links } : {}) }, parent);
}

/** Runs `fn` with `span` active. */
export function withActiveSpan<T>(span: Span, fn: () => T, parent: Context = contextApi.active()): T {
  return contextApi.with(trace.setSpan(parent, span), fn);
}

export function recordError(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  span.setAttribute('error.type', error instanceof Error ? error.constructor.name : typeof error);
}

/** The ids logs carry, when a span is active. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const spanContext = trace.getSpanContext(contextApi.active());
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
