import { randomUUID } from 'node:crypto';
import { CreateEventStore1764300000000, PostgresEventStore, type StoredEvent } from '@gancho/event-store';
import { KafkaTransport, type IncomingMessage } from '@gancho/messaging';
import { openServiceDataSource } from '@gancho/persistence';
import { createTestDatabase, eventually, kafkaBrokers, uniqueName, type TestDatabase } from '@gancho/testing';
import type { DataSource } from 'typeorm';
import { OutboxRelay } from './outbox-relay';

// One relay, one read of the store, several topics (delivery publishes
// attempts and endpoint-health reports so). On the real PostgreSQL and Kafka:
// each event reaches the topic its message names, each topic in store order,
// and a restarted relay goes on from its checkpoint without repeats.
describe('outbox relay to several topics', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'outbox-topics-test', maxWaitTimeMs: 200 });
  const received: Record<string, IncomingMessage[]> = { main: [], side: [] };
  const topics = { main: uniqueName('test.outbox-main'), side: uniqueName('test.outbox-side') };
  let stopConsumers: () => Promise<void>;

  const relay = () =>
    new OutboxRelay({
      name: 'topics',
      topic: topics.main,
      source: store,
      transport,
      databaseUrl: database.url,
      wakeOn: store.notifications,
      batchSize: 5,
      idlePollMs: 200,
      toMessage: (event: StoredEvent) => {
        const message = { key: event.streamId, value: JSON.stringify({ n: (event.data as { n: number }).n }) };
        return event.type === 'SideEffect' ? { ...message, topic: topics.side } : event.type === 'Main' ? message : undefined;
      },
    });

  beforeAll(async () => {
    database = await createTestDatabase('outbox_topics');
    dataSource = await openServiceDataSource({ url: database.url, schema: 'delivery', migrations: [CreateEventStore1764300000000], applicationName: 'outbox-topics-test' });
    store = new PostgresEventStore(dataSource);
    await transport.ensureTopics([{ topic: topics.main }, { topic: topics.side }]);
    const subscriptions = await Promise.all(
      (['main', 'side'] as const).map((name) => transport.subscribe({ groupId: uniqueName(`reader-${name}`), topics: [topics[name]], fromBeginning: true, handle: async (m) => void received[name]?.push(m) })),
    );
    stopConsumers = async () => void (await Promise.all(subscriptions.map((s) => s.stop())));
  });
  afterAll(async () => {
    await stopConsumers?.();
    await transport.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  /** Appends events n = from…to to one stream: every third a SideEffect, every seventh one nobody publishes. */
  async function append(from: number, to: number): Promise<void> {
    for (let n = from; n <= to; n++) {
      const type = n % 7 === 0 ? 'Ignored' : n % 3 === 0 ? 'SideEffect' : 'Main';
      await store.appendToStream('stream:one', [{ eventId: randomUUID(), type, data: { n }, metadata: {} }], { expectedVersion: 'any' });
    }
  }
  const numbers = (name: 'main' | 'side') => (received[name] ?? []).map((m) => JSON.parse(m.value.toString()).n as number);
  const expected = (from: number, to: number, side: boolean) => Array.from({ length: to - from + 1 }, (_, i) => from + i).filter((n) => n % 7 !== 0 && (n % 3 === 0) === side);

  it('sends each event to its topic in store order, and resumes from its checkpoint', async () => {
    const first = relay();
    first.start();
    await append(1, 30);
    await eventually(() => expect(numbers('main').length + numbers('side').length).toBe(expected(1, 30, false).length + expected(1, 30, true).length), {
      timeoutMs: 20_000,
    });
    await first.stop();
    await append(31, 45);
    const second = relay();
    second.start();
    try {
      await eventually(() => expect(numbers('main')).toEqual(expected(1, 45, false)), { timeoutMs: 20_000 });
      await eventually(() => expect(numbers('side')).toEqual(expected(1, 45, true)));
    } finally {
      await second.stop();
    }
  });
});
