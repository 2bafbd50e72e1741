import { Writable } from 'node:stream';
import { Body, Controller, Get, Logger, Module, Param, Post } from '@nestjs/common';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTelemetry, withSpan } from '@gancho/telemetry';
import { createTestDatabase, requireEnv, startTestService, type TestDatabase, type TestService } from '@gancho/testing';
import { createServiceApp } from '../create-service-app';
import { ServiceCoreModule } from '../service-core.module';

// Scenarios, with the real PostgreSQL and Kafka:
// - every request gets an HTTP server span named by its route template, continuing the caller's traceparent,
//   active in the handler even after the JSON body was parsed;
// - /metrics serves http_server_request_duration_seconds by method, route template and status;
// - logs are JSON lines with the service name, Nest's context, and the trace and span ids of the request;
//   LOG_LEVEL decides the level, and an unknown LOG_LEVEL stops the start.
@Controller('things')
class ThingsController {
  private readonly logger = new Logger('Things');

  @Get(':id')
  get(@Param('id') id: string): unknown {
    this.logger.log(`reading thing ${id}`);
    return { id };
  }

  @Post()
  async create(@Body() body: { name: string }): Promise<unknown> {
    return withSpan('things.create', {}, async () => ({ name: body.name }));
  }
}

@Module({
  imports: [ServiceCoreModule.forRoot({ service: 'kit_observability', defaultPort: 0, migrations: [] })],
  controllers: [ThingsController],
})
class ThingsModule {}

describe('service kit observability', () => {
  const exporter = new InMemorySpanExporter();
  const telemetry = startTelemetry({ serviceName: 'kit-test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const lines: string[] = [];
  const logDestination = new Writable({ write: (chunk: Buffer, _e, done) => void (lines.push(...chunk.toString().split('\n').filter(Boolean)), done()) });
  let database: TestDatabase;
  let service: TestService;

  beforeAll(async () => {
    database = await createTestDatabase('service_kit_observability');
    service = await startTestService(() => createServiceApp(ThingsModule as never, { logDestination }), {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
      LOG_LEVEL: 'debug',
    });
  });
  afterAll(async () => {
    await service?.close();
    await database?.drop();
    await telemetry.shutdown();
  });

  const incomingTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const traceparent = `00-${incomingTrace}-00f067aa0ba902b7-01`;

  it('traces a request from the caller’s traceparent, with the span active in the handler after body parsing', async () => {
    const response = await fetch(`${service.url}/things`, { method: 'POST', headers: { 'content-type': 'application/json', traceparent }, body: JSON.stringify({ name: 'x' }) });
    expect(response.status).toBe(201);
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === incomingTrace);
    const server = spans.find((s) => s.kind === SpanKind.SERVER);
    expect(server?.name).toBe('POST /things');
    expect(server?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(server?.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/things', 'http.response.status_code': 201 });
    const child = spans.find((s) => s.name === 'things.create');
    expect(child?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
  });

  it('serves request durations by method, route template and status on /metrics', async () => {
    await fetch(`${service.url}/things/a`);
    await fetch(`${service.url}/things/b`);
    await fetch(`${service.url}/nowhere`);
    const response = await fetch(`${service.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    const count = (labels: string) => text.match(new RegExp(`^http_server_request_duration_seconds_count\\{service="kit_observability",${labels}\\} (\\d+)$`, 'm'))?.[1];
    expect(count('http_request_method="GET",http_route="/things/:id",http_response_status_code="200"')).toBe('2');
    expect(count('http_request_method="GET",http_route="",http_response_status_code="404"')).toBe('1');
    expect(text).toMatch(/^http_server_request_duration_seconds_bucket\{le="0.005",/m);
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).not.toContain('/things/a');
  });

  it('writes JSON log lines with the service, the context and the trace ids of the request', async () => {
    await fetch(`${service.url}/things/c`, { headers: { traceparent } });
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const reading = parsed.find((l) => l['msg'] === 'reading thing c');
    expect(reading).toMatchObject({ level: 'info', service: 'kit_observability', context: 'Things', trace_id: incomingTrace, span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const served = parsed.find((l) => l['msg'] === 'request served' && l['route'] === '/things/:id' && l['trace_id'] === incomingTrace);
    expect(served).toMatchObject({ level: 'debug', method: 'GET', status: 200 });
  });

  it('refuses to start with an unknown LOG_LEVEL', async () => {
    await expect(startTestService(() => createServiceApp(ThingsModule as never), { DATABASE_URL: database.url, KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'), LOG_LEVEL: 'chatty' })).rejects.toThrow(
      /LOG_LEVEL must be one of/,
    );
  });
});
