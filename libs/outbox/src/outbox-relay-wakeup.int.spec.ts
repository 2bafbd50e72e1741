import { randomUUID } from 'node:crypto';
import { CreateEventStore1764300000000, PostgresEventStore, type StoredEvent } from '@gancho/event-store';
import { KafkaTransport, type IncomingMessage } from '@gancho/messaging';
import { openServiceDataSource } from '@gancho/persistence';
import { createTestDatabase, eventually, kafkaBrokers, uniqueName, type TestDatabase } from '@gancho/testing';
import type { Client, Notification } from 'pg';
import type { DataSource } from 'typeorm';
import { OutboxRelay } from './outbox-relay';

// Services may share one database, each in its own schema, and every event
// store notifies on the same channel with its schema as the payload. On the
// real PostgreSQL and Kafka: a relay wakes at once for its own service's
// appends, and another service's appends do not make it read.
describe('outbox relay wake-ups', () => {
  let database: TestDatabase;
  const dataSources: DataSource[] = [];
  let own: PostgresEventStore;
  let other: PostgresEventStore;
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'outbox-wakeup-test', maxWaitTimeMs: 200 });
  const received: IncomingMessage[] = [];
  let stopConsumer: () => Promise<void>;
  let relay: OutboxRelay;
  let reads = 0;

  beforeAll(async () => {
    database = await createTestDatabase('outbox_wakeup');
    for (const schema of ['journey', 'delivery']) {
      dataSources.push(await openServiceDataSource({ url: database.url, schema, migrations: [CreateEventStore1764300000000], applicationName: 'outbox-wakeup-test' }));
    }
    own = new PostgresEventStore(dataSources[0]!);
    other = new PostgresEventStore(dataSources[1]!);
    const topic = uniqueName('test.outbox-wakeup');
    await transport.ensureTopics([{ topic, partitions: 1 }]);
    const subscription = await transport.subscribe({ groupId: uniqueName('wakeup-reader'), topics: [topic], fromBeginning: true, handle: async (m) => void received.push(m) });
    stopConsumer = () => subscription.stop();
    // The store itself, counting the reads the relay makes of it.
    const counted = {
      readPage: (options: { after: bigint; limit: number }) => {
        reads++;
        return own.readPage(options);
      },
      readCheckpoint: (name: string) => own.readCheckpoint(name),
      storeCheckpoint: (name: string, position: bigint) => own.storeCheckpoint(name, position),
    };
    relay = new OutboxRelay({
      name: 'wakeup',
      topic,
      source: counted,
      transport,
      databaseUrl: database.url,
      wakeOn: own.notifications,
      // Long enough that only a notification can explain a prompt read.
      idlePollMs: 60_000,
      toMessage: (event: StoredEvent) => ({ key: event.streamId, value: JSON.stringify(event.data) }),
    });
    relay.start();
    await eventually(() => expect(reads).toBeGreaterThanOrEqual(1));
  });
  afterAll(async () => {
    await relay?.stop();
    await stopConsumer?.();
    await transport.close();
    await Promise.all(dataSources.map((d) => d.destroy()));
    await database?.drop();
  });

  const append = (store: PostgresEventStore) => store.appendToStream(`purchase:${randomUUID()}`, [{ eventId: randomUUID(), type: 'Tested', data: { at: Date.now() }, metadata: {} }], { expectedVersion: 'no_stream' });

  it('names its schema as the notification payload', () => {
    expect([own.notifications.payload, other.notifications.payload]).toEqual(['journey', 'delivery']);
  });

  it("wakes for its own service's appends and not for another's", async () => {
    // The relay's own listening connection (private: the test looks over its shoulder). Listeners run in the order they
    // were added, so the relay's handler has taken each notification before this one counts it.
    const listening = (relay as unknown as { lockClient?: Client }).lockClient;
    expect(listening).toBeDefined();
    const payloads: string[] = [];
    const count = (notification: Notification) => void payloads.push(notification.payload ?? '');
    listening!.on('notification', count);
    try {
      const before = reads;
      for (let i = 0; i < 5; i++) await append(other);
      // All five went through the relay's handler. A wake-up starts the next read within the same turn (the checkpoint is
      // already loaded), before this check's next poll runs: no read since means none of them woke it.
      await eventually(() => expect(payloads.filter((payload) => payload === 'delivery')).toHaveLength(5));
      expect(reads).toBe(before);

      await append(own);
      // Published well before the 60 s idle poll: the notification woke it.
      await eventually(() => expect(relay.publishedCount).toBe(1n), { timeoutMs: 10_000 });
      expect(reads).toBeGreaterThan(before);
    } finally {
      listening!.off('notification', count);
    }
  });

  it('publishes an event held back by an older open transaction once that ends, without another notification', async () => {
    const before = relay.publishedCount;
    // An open transaction with an id, in another schema: its end notifies nobody.
    const blocker = dataSources[1]!.createQueryRunner();
    await blocker.connect();
    await blocker.startTransaction();
    await blocker.query('SELECT pg_current_xact_id()');
    try {
      await append(own);
      const readsAtAppend = reads;
      // The notification came, the event is committed but behind the horizon: the relay keeps looking, and publishes nothing yet.
      await eventually(() => expect(reads).toBeGreaterThan(readsAtAppend + 3), { timeoutMs: 10_000 });
      expect(relay.publishedCount).toBe(before);
    } finally {
      await blocker.commitTransaction();
      await blocker.release();
    }
    // Well before the 60 s idle poll.
    await eventually(() => expect(relay.publishedCount).toBe(before + 1n), { timeoutMs: 10_000 });
  });

  it('stores its checkpoint at most once per interval while events flow, and on stop', async () => {
    const name = uniqueName('debounced');
    const topic = uniqueName('test.outbox-debounced');
    await transport.ensureTopics([{ topic, partitions: 1 }]);
    const writesOf: bigint[] = [];
    const debounced = new OutboxRelay({
      name,
      topic,
      source: {
        readPage: (options: { after: bigint; limit: number }) => own.readPage(options),
        readCheckpoint: (n: string) => own.readCheckpoint(n),
        storeCheckpoint: (n: string, position: bigint) => {
          writesOf.push(position);
          return own.storeCheckpoint(n, position);
        },
      },
      transport,
      databaseUrl: database.url,
      wakeOn: own.notifications,
      idlePollMs: 60_000,
      checkpointIntervalMs: 60_000,
      toMessage: (event: StoredEvent) => ({ key: event.streamId, value: JSON.stringify(event.data) }),
    });
    debounced.start();
    let last = 0n;
    try {
      for (let i = 0; i < 5; i++) {
        const published = debounced.publishedCount;
        last = (await append(own)).lastGlobalPosition;
        await eventually(() => expect(debounced.publishedCount).toBeGreaterThan(published), { timeoutMs: 10_000 });
      }
      // Five batches published, none of them paid a checkpoint write.
      expect(writesOf).toEqual([]);
    } finally {
      await debounced.stop();
    }
    expect(writesOf).toEqual([last]);
    expect(await own.readCheckpoint(name)).toBe(last);
  });

  it('stops at once when stopped while publishing, instead of starting its idle sleep', async () => {
    const topic = uniqueName('test.outbox-stop');
    await transport.ensureTopics([{ topic, partitions: 1 }]);
    let release: () => void = () => undefined;
    let publishing = false;
    const gated = Object.create(transport) as typeof transport;
    gated.publish = async (t, messages) => {
      publishing = true;
      await new Promise<void>((resolve) => (release = resolve));
      return transport.publish(t, messages);
    };
    const busy = new OutboxRelay({
      name: uniqueName('stopping'),
      topic,
      source: own,
      transport: gated,
      databaseUrl: database.url,
      wakeOn: own.notifications,
      idlePollMs: 600_000,
      // Stored with the batch, so the loop goes straight to its idle sleep after it.
      checkpointIntervalMs: 0,
      toMessage: (event: StoredEvent) => ({ key: event.streamId, value: JSON.stringify(event.data) }),
    });
    busy.start();
    await append(own);
    await eventually(() => expect(publishing).toBe(true));
    let stopped = false;
    const stopping = busy.stop().then(() => (stopped = true));
    release();
    // Without the guard the loop went on into its 600 s idle sleep after this publish.
    await eventually(() => expect(stopped).toBe(true));
    await stopping;
  });
});
