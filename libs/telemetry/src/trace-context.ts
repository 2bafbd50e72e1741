import { context as contextApi, isSpanContextValid, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api';

/**
 * W3C Trace Context (`traceparent`, `tracestate`) to and from plain header
 * records, the shape our messages and webhooks carry. Done here rather than
 * through the global propagator, so the context passes through unchanged
 * even when no SDK is registered (tracing off): a service in the middle of a
 * traced path must not break the chain.
 */
export type HeaderRecord = Record<string, string>;

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The span context in a `traceparent` value, or undefined when it is malformed or all zeros. */
export function parseTraceparent(traceparent: string | undefined, tracestate?: string): SpanContext | undefined {
  const match = traceparent === undefined ? null : traceparentPattern.exec(traceparent.trim());
  if (!match) return undefined;
  const [, traceId = '', spanId = '', flags = '00'] = match;
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(tracestate ? { traceState: fixedTraceState(tracestate) } : {}),
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

export function formatTraceparent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-0${(spanContext.traceFlags & TraceFlags.SAMPLED).toString(16)}`;
}

/** The `traceparent` of the span active in `context` (the current one by default); undefined without one. */
export function currentTraceparent(context: Context = contextApi.active()): string | undefined {
  const spanContext = trace.getSpanContext(context);
  return spanContext && isSpanContextValid(spanContext) ? formatTraceparent(spanContext) : undefined;
}

/** Writes the context's `traceparent` (and `tracestate`) into `headers`; returns them. */
export function injectTraceContext<H extends HeaderRecord>(headers: H, context: Context = contextApi.active()): H {
  const spanContext = trace.getSpanContext(context);
  if (!spanContext || !isSpanContextValid(spanContext)) return headers;
  const record = headers as HeaderRecord;
  record['traceparent'] = formatTraceparent(spanContext);
  const state = spanContext.traceState?.serialize();
  if (state) record['tracestate'] = state;
  else delete record['tracestate'];
  return headers;
}

/** A context whose parent span is the one named by the headers (`base`, the current context, when they name none). */
export function extractTraceContext(headers: Readonly<Record<string, string | undefined>> | undefined, base: Context = contextApi.active()): Context {
  const spanContext = parseTraceparent(headers?.['traceparent'], headers?.['tracestate']);
  return spanContext ? trace.setSpanContext(base, spanContext) : base;
}

/** A context from a stored `traceparent` value (a database column, event metadata). */
export function contextFromTraceparent(traceparent: string | null | undefined, base: Context = contextApi.active()): Context {
  return extractTraceContext(traceparent ? { traceparent } : undefined, base);
}

/** `tracestate` is passed through as received: we never add entries of our own. */
function fixedTraceState(serialized: string): SpanContext['traceState'] {
  const state = {
    set: () => state,
    unset: () => state,
    get: (key: string) =>
      serialized
        .split(',')
        .map((entry) => entry.trim().split('='))
        .find(([name]) => name === key)?.[1],
    serialize: () => serialized,
  };
  return state;
}
