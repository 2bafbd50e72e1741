import { randomUUID } from 'node:crypto';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CreateEventStore1764300000000, PostgresEventStore, type StoredEvent } from '@gancho/event-store';
import { PostgresTransport } from '@gancho/messaging';
import { openServiceDataSource } from '@gancho/persistence';
import { startTelemetry } from '@gancho/telemetry';
import { createTestDatabase, eventually, uniqueName, type TestDatabase } from '@gancho/testing';
import type { DataSource } from 'typeorm';
import { OutboxRelay, type OutboxSource } from './outbox-relay';

// Scenarios, on the real PostgreSQL (and the PostgreSQL transport):
// - lag: events past the checkpoint (count and age of the oldest), back to 0 once published;
// - each published event gets an `outbox.publish` span, the child of the trace context stored with the event,
//   and the transport's producer span is its child.
describe('outbox relay observability', () => {
  const exporter = new InMemorySpanExporter();
  const telemetry = startTelemetry({ serviceName: 'outbox-test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;
  let transport: PostgresTransport;
  let source: OutboxSource;
  const topic = uniqueName('test.outbox-obs');

  beforeAll(async () => {
    database = await createTestDatabase('outbox_observability');
    dataSource = await openServiceDataSource({ url: database.url, schema: 'journey', migrations: [CreateEventStore1764300000000], applicationName: 'outbox-obs-test' });
    store = new PostgresEventStore(dataSource);
    source = {
      readPage: (options) => store.readPage(options),
      readCheckpoint: (name) => store.readCheckpoint(name),
      storeCheckpoint: (name, position) => store.storeCheckpoint(name, position),
      headPosition: async () => BigInt((await dataSource.query('SELECT coalesce(max(global_position), 0)::text AS head FROM journey.events'))[0].head),
    };
    transport = new PostgresTransport({ connectionString: database.url, clientId: 'outbox-obs-test' });
    await transport.ensureTopics([{ topic, partitions: 1 }]);
  });
  afterAll(async () => {
    await transport?.close();
    await dataSource?.destroy();
    await database?.drop();
    await telemetry.shutdown();
  });

  it('reports its lag and traces each publish from the stored trace context', async () => {
    const relay = new OutboxRelay({
      name: 'obs',
      topic,
      source,
      transport,
      databaseUrl: database.url,
      toMessage: (event: StoredEvent) => {
        const traceparent = (event.metadata as { traceparent?: string }).traceparent;
        const headers: Record<string, string> = traceparent ? { traceparent } : {};
        return { key: event.streamId, value: '{}', headers };
      },
    });
    expect(await relay.lag()).toEqual({ seconds: 0, events: 0 });
    const storedTrace = '0af7651916cd43dd8448eb211c80319c';
    const storedSpan = 'b7ad6b7169203331';
    await store.appendToStream(
      'purchase:x',
      [
        { eventId: randomUUID(), type: 'Tested', data: {}, metadata: { traceparent: `00-${storedTrace}-${storedSpan}-01` } },
        { eventId: randomUUID(), type: 'Tested', data: {}, metadata: {} },
      ],
      { expectedVersion: 0 },
    );
    // The age counts events the relay can publish: those of transactions below the server's horizon, which other work on the server may hold back a moment.
    await eventually(async () => {
      const behind = await relay.lag(new Date(Date.now() + 5000));
      expect(behind.events).toBe(2);
      expect(behind.seconds).toBeGreaterThanOrEqual(4.5);
    });

    expect(await relay.publishBatch()).toBe(2);
    expect(await relay.lag()).toEqual({ seconds: 0, events: 0 });

    const spans = exporter.getFinishedSpans();
    const publish = spans.find((s) => s.name === 'outbox.publish' && s.spanContext().traceId === storedTrace);
    expect(publish?.parentSpanContext?.spanId).toBe(storedSpan);
    expect(publish?.attributes).toMatchObject({ 'gancho.outbox.relay': 'obs', 'messaging.destination.name': topic });
    const producer = spans.find((s) => s.name === `send ${topic}` && s.spanContext().traceId === storedTrace);
    expect(producer?.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
    expect(spans.filter((s) => s.name === 'outbox.publish')).toHaveLength(2);
  });
});
