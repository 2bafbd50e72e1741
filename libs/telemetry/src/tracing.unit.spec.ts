import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Writable } from 'node:stream';
import { createLogger } from './logging';
import { currentTraceparent, extractTraceContext, injectTraceContext } from './trace-context';
import { startTelemetry, tracesConfigured, withSpan } from './tracing';

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  const telemetry = startTelemetry({ serviceName: 'test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
  afterAll(() => telemetry.shutdown());
  beforeEach(() => exporter.reset());

  it('starts only when OTEL_* variables ask for traces', () => {
    expect(tracesConfigured({})).toBe(false);
    expect(tracesConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracesConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracesConfigured({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracesConfigured({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(false);
    expect(tracesConfigured({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(false);
    expect(telemetry.enabled).toBe(true);
    // A second start in the same process gets the first.
    expect(startTelemetry({ serviceName: 'other' })).toBe(telemetry);
  });

  it('nests spans opened inside withSpan, across awaits', async () => {
    await withSpan('command.handle', { 'gancho.command': 'Open' }, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      await withSpan('eventStore.appendToStream', {}, async () => undefined);
    });
    const [child, parent] = exporter.getFinishedSpans();
    expect(child?.name).toBe('eventStore.appendToStream');
    expect(parent?.name).toBe('command.handle');
    expect(child?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
    expect(child?.spanContext().traceId).toBe(parent?.spanContext().traceId);
    expect(parent?.attributes['gancho.command']).toBe('Open');
  });

  it('continues a remote trace from headers, and injects its own span into outgoing headers', async () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const outgoing = await withSpan('process topic', {}, async () => injectTraceContext({} as Record<string, string>), { kind: SpanKind.CONSUMER, parent: extractTraceContext({ traceparent: incoming }) });
    const [span] = exporter.getFinishedSpans();
    expect(span?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span?.kind).toBe(SpanKind.CONSUMER);
    expect(outgoing.traceparent).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${span?.spanContext().spanId}-01`);
    expect(currentTraceparent(context.active())).toBeUndefined();
  });

  it('records a thrown error on the span and rethrows it', async () => {
    await expect(withSpan('failing', {}, async () => Promise.reject(new RangeError('boom')))).rejects.toThrow('boom');
    const [span] = exporter.getFinishedSpans();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(span?.attributes['error.type']).toBe('RangeError');
  });

  it('puts the active trace and span ids on log lines', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk: Buffer, _e, done) => void (lines.push(chunk.toString()), done()) });
    const logger = createLogger({ service: 's', level: 'info', destination });
    logger.info('outside');
    await withSpan('work', {}, async () => logger.info('inside'));
    const [outside, inside] = lines.map((l) => JSON.parse(l));
    const [span] = exporter.getFinishedSpans();
    expect(outside.trace_id).toBeUndefined();
    expect(inside).toMatchObject({ trace_id: span?.spanContext().traceId, span_id: span?.spanContext().spanId });
  });
});
