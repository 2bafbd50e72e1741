import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTelemetry, withSpan } from '@gancho/telemetry';
import { createTestDatabase, eventually, kafkaBrokers, uniqueName, type TestDatabase } from '@gancho/testing';
import type { EventTransport, IncomingMessage } from './event-transport';
import { KafkaTransport } from './kafka/kafka-transport';
import { PostgresTransport } from './postgres/postgres-transport';

// Scenarios, on both adapters (real Kafka, real PostgreSQL):
// - every published message carries the traceparent of its producer span, a child of the span active at publish time;
// - a handler runs inside a consumer span whose parent is that producer span (batches: a span linked to each message);
// - consumerLag counts, per partition, what the group has not committed yet, and reaches 0 once it has.
const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({ serviceName: 'messaging-test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('messaging_observability');
});
afterAll(async () => {
  await telemetry.shutdown();
  await database?.drop();
});

const adapters: [string, () => EventTransport][] = [
  ['KafkaTransport', () => new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'observability-test', maxWaitTimeMs: 100 })],
  ['PostgresTransport', () => new PostgresTransport({ connectionString: database.url, clientId: uniqueName('observability'), pollIntervalMs: 200, rebalanceIntervalMs: 150 })],
];

describe.each(adapters)('%s observability', (_name, create) => {
  let transport: EventTransport;
  beforeAll(() => {
    transport = create();
  });
  afterAll(() => transport.close());

  it('carries the trace from the publishing span through the message headers into the handler', async () => {
    const topic = uniqueName('obs.trace');
    await transport.ensureTopics([{ topic, partitions: 2 }]);
    const received: IncomingMessage[] = [];
    const activeInHandler: (string | undefined)[] = [];
    const subscription = await transport.subscribe({
      groupId: uniqueName('obs.group'),
      topics: [topic],
      fromBeginning: true,
      handle: async (message) => {
        received.push(message);
        activeInHandler.push(await withSpan('handler work', {}, async (span) => span.spanContext().traceId));
      },
    });
    try {
      const traceId = await withSpan('publisher', {}, async (span) => {
        await transport.publish(topic, [{ key: 'k1', value: 'one', headers: { other: 'kept' } }]);
        return span.spanContext().traceId;
      });
      await eventually(() => expect(received).toHaveLength(1));
      const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      const publisher = spans.find((s) => s.name === 'publisher');
      const producer = spans.find((s) => s.name === `send ${topic}`);
      expect(producer?.kind).toBe(SpanKind.PRODUCER);
      expect(producer?.parentSpanContext?.spanId).toBe(publisher?.spanContext().spanId);
      expect(producer?.attributes['messaging.destination.name']).toBe(topic);
      expect(received[0]?.headers).toMatchObject({ other: 'kept', traceparent: `00-${traceId}-${producer?.spanContext().spanId}-01` });
      await eventually(() => expect(exporter.getFinishedSpans().some((s) => s.name === `process ${topic}` && s.spanContext().traceId === traceId)).toBe(true));
      const consumed = exporter.getFinishedSpans().find((s) => s.name === `process ${topic}` && s.spanContext().traceId === traceId);
      expect(consumed?.kind).toBe(SpanKind.CONSUMER);
      expect(consumed?.parentSpanContext?.spanId).toBe(producer?.spanContext().spanId);
      expect(activeInHandler).toEqual([traceId]);
    } finally {
      await subscription.stop();
    }
  });

  it('links a batch consumer span to every message it handled', async () => {
    const topic = uniqueName('obs.batch');
    await transport.ensureTopics([{ topic, partitions: 1 }]);
    const producerSpanIds = await withSpan('batch publisher', {}, async () => {
      await transport.publish(topic, [
        { key: 'a', value: '1' },
        { key: 'a', value: '2' },
      ]);
      return exporter
        .getFinishedSpans()
        .filter((s) => s.name === `send ${topic}`)
        .map((s) => s.spanContext().spanId);
    });
    expect(producerSpanIds).toHaveLength(2);
    let handled = 0;
    const subscription = await transport.subscribe({ groupId: uniqueName('obs.batch-group'), topics: [topic], fromBeginning: true, handleBatch: async (m) => void (handled += m.length) });
    try {
      await eventually(() => expect(handled).toBe(2));
      await eventually(() => {
        const linked = exporter
          .getFinishedSpans()
          .filter((s) => s.name === `process ${topic}`)
          .flatMap((s) => s.links.map((l) => l.context.spanId));
        expect(new Set(linked)).toEqual(new Set(producerSpanIds));
      });
    } finally {
      await subscription.stop();
    }
  });

  it('reports consumer lag per partition until the group has committed everything', async () => {
    const topic = uniqueName('obs.lag');
    const groupId = uniqueName('obs.lag-group');
    await transport.ensureTopics([{ topic, partitions: 2 }]);
    await transport.publish(
      topic,
      Array.from({ length: 6 }, (_, i) => ({ key: `key-${i}`, value: String(i) })),
    );
    const before = await transport.consumerLag?.(groupId, [topic]);
    expect(before?.map((p) => p.partition).sort()).toEqual([0, 1]);
    expect(before?.reduce((sum, p) => sum + p.lag, 0)).toBe(6);
    let handled = 0;
    const subscription = await transport.subscribe({ groupId, topics: [topic], fromBeginning: true, handle: async () => void (handled += 1) });
    try {
      await eventually(() => expect(handled).toBe(6));
      await eventually(async () => {
        const after = await transport.consumerLag?.(groupId, [topic]);
        expect(after?.map((p) => p.lag)).toEqual([0, 0]);
        expect(after?.every((p) => p.committedOffset === p.endOffset)).toBe(true);
      });
    } finally {
      await subscription.stop();
    }
  });
});
