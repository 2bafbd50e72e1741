import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createTestDatabase, eventually, uniqueName, type TestDatabase } from '@gancho/testing';
import { Client } from 'pg';
import type { IncomingMessage, Subscription } from '../event-transport';
import { PostgresTransport, type PostgresTransportOptions } from './postgres-transport';

// PostgreSQL-specific scenarios (the shared promises are in
// postgres-transport.contract.int.spec.ts):
// - ten concurrent publishers: offsets per partition are dense (no gap, no
//   duplicate) and a reader running meanwhile sees every one, in order;
// - a publish whose transaction took its offset first but commits late is
//   still read before the one that took the next offset (the counter lock);
// - LISTEN/NOTIFY wakes an idle consumer in milliseconds (median of 50);
// - a member whose connection dies is replaced: another member gets its
//   partition, and the message it had in hand, within a few seconds;
// - a message that always fails is retried with backoff, not in a busy loop;
// - services starting together create the schema once; publishing to an
//   unknown topic is refused; a compacted topic is read in full, in order;
// - ping fails within its bound when the server does not answer.
describe('PostgresTransport', () => {
  let database: TestDatabase;
  const transports: PostgresTransport[] = [];
  const subscriptions: Subscription[] = [];
  beforeAll(async () => {
    database = await createTestDatabase('messaging_pg_transport');
  });
  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
    await Promise.all(transports.splice(0).map((t) => t.close()));
  });
  afterAll(() => database.drop());

  function open(options: Partial<PostgresTransportOptions> = {}): PostgresTransport {
    const transport = new PostgresTransport({
      connectionString: database.url,
      clientId: uniqueName('pg-test'),
      pollIntervalMs: 200,
      rebalanceIntervalMs: 150,
      redeliveryBackoffMs: { initial: 50, max: 400 },
      ...options,
    });
    transports.push(transport);
    return transport;
  }
  async function freshTopic(transport: PostgresTransport, partitions: number, compacted = false): Promise<string> {
    const topic = uniqueName('test.pg-transport');
    await transport.ensureTopics([{ topic, partitions, compacted }]);
    return topic;
  }
  async function sql<Row extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<Row[]> {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query<Row>(text, values)).rows;
    } finally {
      await client.end();
    }
  }
  const byPartition = (messages: IncomingMessage[], partition: number) => messages.filter((m) => m.partition === partition).map((m) => Number(m.offset));
  const range = (count: number) => Array.from({ length: count }, (_, i) => i);

  it('keeps offsets dense under ten concurrent publishers, and a concurrent reader sees each in order', async () => {
    const reader = open({ pollIntervalMs: 5 });
    const topic = await freshTopic(reader, 2);
    const received: IncomingMessage[] = [];
    subscriptions.push(await reader.subscribe({ groupId: uniqueName('group'), topics: [topic], fromBeginning: true, handle: async (m) => void received.push(m) }));

    const publishers = range(10).map(() => open({ poolSize: 2 }));
    // 10 publishers x 20 calls of 1 to 3 messages, over keys of both partitions.
    await Promise.all(
      publishers.map(async (publisher, p) => {
        for (let call = 0; call < 20; call++) {
          const size = 1 + ((p + call) % 3);
          await publisher.publish(
            topic,
            range(size).map((i) => ({ key: `k${(p + call + i) % 7}`, value: `${p}.${call}.${i}` })),
          );
        }
      }),
    );
    const total = range(10).reduce((sum, p) => sum + range(20).reduce((s, call) => s + 1 + ((p + call) % 3), 0), 0);

    const stored = await sql<{ partition: number; offsets: string[]; next_offset: string }>(
      `SELECT m.partition, array_agg(m."offset"::text ORDER BY m."offset") AS offsets, min(p.next_offset)::text AS next_offset
         FROM gancho_transport.messages m JOIN gancho_transport.partitions p USING (topic, partition)
        WHERE m.topic = $1 GROUP BY m.partition ORDER BY m.partition`,
      [topic],
    );
    expect(stored.map((row) => row.partition)).toEqual([0, 1]);
    expect(stored.reduce((sum, row) => sum + row.offsets.length, 0)).toBe(total);
    for (const row of stored) {
      expect(row.offsets.map(Number)).toEqual(range(row.offsets.length));
      expect(Number(row.next_offset)).toBe(row.offsets.length);
    }
    // The reader moved on while publishers were still committing; had it ever
    // skipped an offset that committed late, that offset would be missing here.
    await eventually(() => expect(received).toHaveLength(total));
    for (const row of stored) expect(byPartition(received, row.partition)).toEqual(range(row.offsets.length));
  });

  it('reads a publish that took its offset first but committed late before the one that took the next offset', async () => {
    const schema = 'lock_order_test';
    const transport = open({ schema, pollIntervalMs: 5 });
    const topic = await freshTopic(transport, 1);
    // Test-only trigger: the publish of key "slow" sleeps inside its transaction, after taking its offset.
    await sql(`CREATE FUNCTION ${schema}.sleep_on_slow() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN IF NEW.key = 'slow' THEN PERFORM pg_sleep(0.6); END IF; RETURN NEW; END $$`);
    await sql(`CREATE TRIGGER sleep_on_slow BEFORE INSERT ON ${schema}.messages FOR EACH ROW EXECUTE FUNCTION ${schema}.sleep_on_slow()`);
    const received: IncomingMessage[] = [];
    subscriptions.push(await transport.subscribe({ groupId: uniqueName('group'), topics: [topic], fromBeginning: true, handle: async (m) => void received.push(m) }));

    const committed: string[] = [];
    const slow = transport.publish(topic, [{ key: 'slow', value: 'slow' }]).then(() => committed.push('slow'));
    await eventually(async () => {
      const sleeping = await sql(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'`);
      expect(sleeping).toHaveLength(1);
    });
    const fast = transport.publish(topic, [{ key: 'fast', value: 'fast' }]).then(() => committed.push('fast'));
    await Promise.all([slow, fast]);

    // The second publisher waited on the counter lock until the first committed.
    expect(committed).toEqual(['slow', 'fast']);
    await eventually(() =>
      expect(received.map((m) => [m.offset, m.value.toString()])).toEqual([
        ['0', 'slow'],
        ['1', 'fast'],
      ]),
    );
  });

  it('wakes an idle consumer through LISTEN/NOTIFY, long before its poll', async () => {
    // A poll once a minute: only a notification can bring a message before the minute is out.
    const transport = open({ pollIntervalMs: 60_000 });
    const topic = await freshTopic(transport, 4);
    let arrived: (() => void) | undefined;
    subscriptions.push(await transport.subscribe({ groupId: uniqueName('group'), topics: [topic], fromBeginning: true, handle: async () => arrived?.() }));

    const latencies: number[] = [];
    for (let i = 0; i < 50; i++) {
      const got = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`message ${i} took over 30 s: no notification woke the consumer`)), 30_000);
        arrived = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      const started = performance.now();
      await transport.publish(topic, [{ key: `k${i}`, value: String(i) }]);
      await got;
      latencies.push(performance.now() - started);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const median = ((sorted[24] ?? 0) + (sorted[25] ?? 0)) / 2;
    process.stdout.write(`PostgresTransport publish-to-handler latency over 50 messages: median ${median.toFixed(1)} ms, max ${(sorted[49] ?? 0).toFixed(1)} ms\n`);
    expect(latencies).toHaveLength(50);
  });

  it('replaces a member whose connection dies: another member gets its partition and the message it had in hand', async () => {
    const warnings: string[] = [];
    const clientIdA = uniqueName('member-a').slice(0, 40);
    const a = open({ clientId: clientIdA, log: (_level, message) => void warnings.push(message) });
    const b = open();
    const topic = await freshTopic(a, 1);
    const groupId = uniqueName('group');
    let releaseA: (() => void) | undefined;
    const handledByA: string[] = [];
    const handledByB: string[] = [];
    subscriptions.push(
      await a.subscribe({
        groupId,
        topics: [topic],
        fromBeginning: true,
        // A hangs on its first message: it holds the only partition and commits nothing.
        handle: async (m) => {
          handledByA.push(m.value.toString());
          await new Promise<void>((resolve) => (releaseA = resolve));
        },
      }),
    );
    await a.publish(topic, [{ key: 'k', value: 'in-hand' }]);
    await eventually(() => expect(handledByA).toEqual(['in-hand']));
    subscriptions.push(await b.subscribe({ groupId, topics: [topic], fromBeginning: true, handle: async (m) => void handledByB.push(m.value.toString()) }));
    // Several rebalance rounds of B (each heartbeats, then tries to lock the partitions it lacks): B finds the partition taken.
    const heartbeatsOfB = new Set<string>();
    await eventually(
      async () => {
        const rows = await sql<{ at: string }>(`SELECT heartbeat_at::text AS at FROM gancho_transport.group_members WHERE group_id = $1 AND member_id NOT LIKE $2`, [groupId, `${clientIdA}-%`]);
        for (const row of rows) heartbeatsOfB.add(row.at);
        // The third heartbeat comes after two whole rounds.
        expect(heartbeatsOfB.size).toBeGreaterThanOrEqual(3);
      },
      { timeoutMs: 10_000 },
    );
    expect(handledByB).toEqual([]);

    const killed = await sql<{ terminated: boolean }>(`SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE application_name = $1`, [`${clientIdA}:member`]);
    expect(killed).toEqual([{ terminated: true }]);
    const killedAt = Date.now();
    await eventually(() => expect(handledByB).toEqual(['in-hand']), { timeoutMs: 30_000 });
    process.stdout.write(`PostgresTransport member replaced ${Date.now() - killedAt} ms after its connection died\n`);
    expect(warnings).toContain('consumer session connection lost; its partitions are free for other members');

    // A's handler finishes late; its commit cannot land (its lease is gone), and B keeps the partition.
    releaseA?.();
    await a.publish(topic, [{ key: 'k', value: 'after' }]);
    await eventually(() => expect(handledByB).toEqual(['in-hand', 'after']));
    expect(handledByA).toEqual(['in-hand']);
  });

  it('backs off on a message that always fails instead of spinning', async () => {
    const transport = open({ pollIntervalMs: 50, redeliveryBackoffMs: { initial: 100, max: 200 } });
    const topic = await freshTopic(transport, 1);
    const attemptedAt: number[] = [];
    subscriptions.push(
      await transport.subscribe({
        groupId: uniqueName('group'),
        topics: [topic],
        fromBeginning: true,
        handle: async () => {
          attemptedAt.push(performance.now());
          throw new Error('always fails');
        },
      }),
    );
    await transport.publish(topic, [{ key: 'k', value: 'poison' }]);
    await eventually(() => expect(attemptedAt.length).toBeGreaterThanOrEqual(6));
    // Each redelivery waits its backoff (100 ms, then 200 ms); without it, a poll (50 ms) apart or less.
    // A busy machine only makes the gaps longer.
    const gaps = attemptedAt.slice(0, 6).map((at, i, all) => (i === 0 ? Infinity : at - all[i - 1]!));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(95);
  });

  it('creates its schema once when services start together, refuses unknown topics, reads compacted topics in full', async () => {
    const schema = 'startup_race_test';
    const starting = range(6).map(() => open({ schema }));
    const topic = uniqueName('test.pg-transport');
    await Promise.all(starting.map((t, i) => t.ensureTopics([{ topic, partitions: 2 + i, compacted: true }])));
    // The first creation wins; later ones leave the topic as it is, as in Kafka.
    const [created] = await sql<{ partitions: number; compacted: boolean }>(`SELECT partitions, compacted FROM ${schema}.topics WHERE name = $1`, [topic]);
    expect(created?.compacted).toBe(true);
    const [counters] = await sql<{ count: number }>(`SELECT count(*)::int AS count FROM ${schema}.partitions WHERE topic = $1`, [topic]);
    expect(counters?.count).toBe(created?.partitions);

    const transport = starting[0] as PostgresTransport;
    await expect(transport.publish(uniqueName('test.missing'), [{ key: 'k', value: 'v' }])).rejects.toThrow(/unknown topic/);

    const received: string[] = [];
    subscriptions.push(await transport.subscribe({ groupId: uniqueName('group'), topics: [topic], fromBeginning: true, handle: async (m) => void received.push(m.value.toString()) }));
    await transport.publish(
      topic,
      ['v1', 'v2', 'v3'].map((value) => ({ key: 'endpoint:1', value })),
    );
    await eventually(() => expect(received).toEqual(['v1', 'v2', 'v3']));
  });

  it('fails a ping within its bound when the server does not answer', async () => {
    // Accepts TCP connections and never says a word.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const transport = new PostgresTransport({ connectionString: `postgres://nobody:nothing@127.0.0.1:${port}/none`, clientId: 'pg-test', pingTimeoutMs: 500 });
    try {
      // The bound itself answers, not a connection attempt that gave up on its own.
      await expect(transport.ping()).rejects.toThrow(/did not answer within 500 ms/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      void transport.close().catch(() => undefined);
    }
  });
});
