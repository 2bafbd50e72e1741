import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { contextFromTraceparent, currentTraceparent, extractTraceContext, formatTraceparent, injectTraceContext, parseTraceparent } from './trace-context';

const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C trace context on header records', () => {
  it('parses and formats a traceparent', () => {
    const parsed = parseTraceparent(traceparent, 'vendor=1');
    expect(parsed).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true });
    expect(parsed && formatTraceparent(parsed)).toBe(traceparent);
    expect(parsed?.traceState?.serialize()).toBe('vendor=1');
  });

  it.each([
    ['garbage', 'not-a-traceparent'],
    ['an all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['an all-zero span id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['upper case', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01'],
  ])('refuses %s', (_name, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('passes a context through without any SDK: extract, then inject, gives the same headers', () => {
    const extracted = extractTraceContext({ traceparent, tracestate: 'vendor=1' }, ROOT_CONTEXT);
    expect(injectTraceContext({} as Record<string, string>, extracted)).toEqual({ traceparent, tracestate: 'vendor=1' });
    expect(currentTraceparent(extracted)).toBe(traceparent);
    // A no-op tracer's span keeps the parent's context, so a hop with tracing off keeps the chain.
    const span = trace.getTracer('t').startSpan('hop', {}, extracted);
    expect(currentTraceparent(trace.setSpan(ROOT_CONTEXT, span))).toBe(traceparent);
  });

  it('leaves headers alone when there is no valid context', () => {
    expect(injectTraceContext({ a: '1' }, ROOT_CONTEXT)).toEqual({ a: '1' });
    expect(extractTraceContext({ traceparent: 'bad' }, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
    expect(contextFromTraceparent(null, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
    expect(currentTraceparent(context.active())).toBeUndefined();
  });
});
