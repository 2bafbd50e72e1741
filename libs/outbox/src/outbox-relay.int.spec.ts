import { randomUUID } from 'node:crypto';
import { CreateEventStore1764300000000, PostgresEventStore, type StoredEvent } from '@gancho/event-store';
import { KafkaTransport, type IncomingMessage } from '@gancho/messaging';
import { openServiceDataSource } from '@gancho/persistence';
import { createTestDatabase, eventually, kafkaBrokers, uniqueName, type TestDatabase } from '@gancho/testing';
import type { DataSource } from 'typeorm';
import { OutboxRelay } from './outbox-relay';

// Scenarios, on the real PostgreSQL and Kafka:
// - every stored event is published once, keyed by stream, in per-stream order;
// - a stopped relay resumes from its checkpoint: nothing is skipped, nothing old returns;
// - events of a rolled-back transaction are never published;
// - with two relays on one name, one publishes and the other stands by, then takes over.
describe('outbox relay', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'outbox-test', maxWaitTimeMs: 200 });
  const received: IncomingMessage[] = [];
  let topic: string;
  let stopConsumer: () => Promise<void>;

  const relay = (name = 'purchases') =>
    new OutboxRelay({
      name,
      topic,
      source: store,
      transport,
      databaseUrl: database.url,
      wakeOn: store.notifications,
      batchSize: 7,
      idlePollMs: 200,
      toMessage: (event: StoredEvent) => ({
        key: event.streamId,
        value: JSON.stringify({ version: event.streamVersion }),
        headers: { ce_id: event.eventId },
      }),
    });

  async function appendTo(streamId: string, count: number): Promise<void> {
    let version = await store.streamVersion(streamId);
    for (let i = 0; i < count; i++) {
      const result = await store.appendToStream(streamId, [{ eventId: randomUUID(), type: 'Tested', data: { i }, metadata: {} }], { expectedVersion: version });
      version = result.nextExpectedVersion;
    }
  }

  const versionsOf = (streamId: string) => received.filter((m) => m.key === streamId).map((m) => JSON.parse(m.value.toString()).version as number);

  beforeAll(async () => {
    database = await createTestDatabase('outbox');
    dataSource = await openServiceDataSource({ url: database.url, schema: 'journey', migrations: [CreateEventStore1764300000000], applicationName: 'outbox-test' });
    store = new PostgresEventStore(dataSource);
    topic = uniqueName('test.outbox');
    await transport.ensureTopics([{ topic, partitions: 3 }]);
    const subscription = await transport.subscribe({ groupId: uniqueName('outbox-reader'), topics: [topic], fromBeginning: true, handle: async (m) => void received.push(m) });
    stopConsumer = () => subscription.stop();
  });
  afterAll(async () => {
    await stopConsumer?.();
    await transport.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('publishes every event in per-stream order and resumes from its checkpoint', async () => {
    const first = relay();
    first.start();
    await Promise.all(['purchase:a', 'purchase:b', 'purchase:c'].map((s) => appendTo(s, 10)));
    await eventually(() => expect(received).toHaveLength(30), { timeoutMs: 20_000 });
    await first.stop();

    await Promise.all(['purchase:a', 'purchase:d'].map((s) => appendTo(s, 5)));
    const second = relay();
    second.start();
    try {
      await eventually(() => expect(received).toHaveLength(40), { timeoutMs: 20_000 });
      expect(versionsOf('purchase:a')).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      for (const stream of ['purchase:b', 'purchase:c']) expect(versionsOf(stream)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      expect(versionsOf('purchase:d')).toEqual([1, 2, 3, 4, 5]);
      expect(second.publishedCount).toBe(10n);
      expect(new Set(received.map((m) => m.headers.ce_id)).size).toBe(40);
    } finally {
      await second.stop();
    }
  });

  it('never publishes the events of a rolled-back transaction', async () => {
    const active = relay();
    active.start();
    try {
      const before = received.length;
      await dataSource
        .transaction(async (manager) => {
          await store.appendToStream('purchase:rolled-back', [{ eventId: randomUUID(), type: 'Tested', data: {}, metadata: {} }], { expectedVersion: 'no_stream', manager });
          throw new Error('abort');
        })
        .catch(() => undefined);
      await appendTo('purchase:after-rollback', 1);
      await eventually(() => expect(versionsOf('purchase:after-rollback')).toEqual([1]));
      expect(received.slice(before).map((m) => m.key)).toEqual(['purchase:after-rollback']);
    } finally {
      await active.stop();
    }
  });

  it('lets one of two relays publish, and the other take over when it stops', async () => {
    const [one, two] = [relay('shared'), relay('shared')];
    one.start();
    two.start();
    try {
      const before = received.length;
      await appendTo('purchase:leader', 6);
      await eventually(() => expect(versionsOf('purchase:leader')).toHaveLength(6));
      expect([one.publishedCount, two.publishedCount].sort()).toEqual([0n, BigInt(received.length - before)].sort());
      const [leader, standby] = one.publishedCount > 0n ? [one, two] : [two, one];
      await leader.stop();
      await appendTo('purchase:leader', 2);
      await eventually(() => expect(versionsOf('purchase:leader')).toHaveLength(8), { timeoutMs: 20_000 });
      expect(standby.publishedCount).toBeGreaterThan(0n);
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });
});
