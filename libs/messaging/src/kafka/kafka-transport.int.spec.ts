import { eventually, kafkaBrokers, uniqueName } from '@gancho/testing';
import { KafkaTransport } from './kafka-transport';

// Kafka-specific scenarios, on the real broker. What every adapter promises
// (round trip, per-key order, groups, committed offsets, redelivery of failed
// messages and batches, a crashed consumer process) is the shared suite in
// kafka-transport.contract.int.spec.ts.
// - a message that always fails is retried with backoff, not in a busy loop;
// - ping fails fast when no broker answers;
// - a topic the broker does not know yet (created a moment later, as right
//   after another process creates it) is waited for, bounded, by subscribe
//   and publish instead of failing with "does not host this topic-partition";
// - offsets of a quiet flow are committed once per interval, not per batch,
//   and whatever was put off is committed when the consumer stops.
describe('KafkaTransport on a real broker', () => {
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'gancho-test' });
  afterAll(() => transport.close());

  async function freshTopic(partitions = 3): Promise<string> {
    const topic = uniqueName('test.kafka-transport');
    await transport.ensureTopics([{ topic, partitions }]);
    return topic;
  }

  it('backs off on a message that always fails instead of spinning', async () => {
    const topic = await freshTopic(1);
    const patient = new KafkaTransport({
      brokers: kafkaBrokers(),
      clientId: 'gancho-test-backoff',
      maxWaitTimeMs: 250,
      redeliveryBackoffMs: { initial: 100, max: 200 },
    });
    const attemptedAt: number[] = [];
    const subscription = await patient.subscribe({
      groupId: uniqueName('group'),
      topics: [topic],
      fromBeginning: true,
      handle: async () => {
        attemptedAt.push(performance.now());
        throw new Error('always fails');
      },
    });
    try {
      await patient.publish(topic, [{ key: 'k', value: 'poison' }]);
      await eventually(() => expect(attemptedAt.length).toBeGreaterThanOrEqual(6));
      // Each redelivery waits its backoff (100 ms, then 200 ms); without it the
      // attempts come a fetch apart. A busy machine only makes the gaps longer.
      const gaps = attemptedAt.slice(0, 6).map((at, i, all) => (i === 0 ? Infinity : at - all[i - 1]!));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(95);
    } finally {
      await subscription.stop();
      await patient.close();
    }
  });

  it('subscribes to a topic the broker does not know yet, once it is created', async () => {
    const topic = uniqueName('test.kafka-late-topic');
    const waits: string[] = [];
    const late = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'gancho-test-late', maxWaitTimeMs: 200, log: (_level, message) => void waits.push(message) });
    const received: string[] = [];
    const subscribing = late.subscribe({ groupId: uniqueName('group'), topics: [topic], fromBeginning: true, handle: async (m) => void received.push(m.value.toString()) });
    subscribing.catch(() => undefined);
    try {
      // The subscribe has met the unknown topic before anyone creates it.
      await eventually(() => expect(waits).toContain('subscribe: the broker does not know the topic yet; retrying'));
      await transport.ensureTopics([{ topic, partitions: 2 }]);
      const subscription = await subscribing;
      await transport.publish(topic, [{ key: 'k', value: 'after creation' }]);
      await eventually(() => expect(received).toEqual(['after creation']));
      await subscription.stop();
    } finally {
      await late.close();
    }
  });

  it('publishes to a topic the broker does not know yet once it is created, and gives up after the bound', async () => {
    const topic = uniqueName('test.kafka-late-topic');
    const waits: string[] = [];
    const late = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'gancho-test-late', log: (_level, message) => void waits.push(message) });
    const impatient = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'gancho-test-impatient', metadataRaceRetryMs: { initial: 50, total: 300 } });
    try {
      // kafkajs' producer retries for about 10 s itself before it gives up on an unknown topic; both calls run side by side.
      const givingUp = expect(impatient.publish(uniqueName('test.kafka-never-created'), [{ key: 'k', value: 'v' }])).rejects.toThrow('This server does not host this topic-partition');
      const publishing = late.publish(topic, [{ key: 'k', value: 'v' }]);
      publishing.catch(() => undefined);
      await eventually(() => expect(waits).toContain('publish: the broker does not know the topic yet; retrying'), { timeoutMs: 30_000 });
      await transport.ensureTopics([{ topic, partitions: 1 }]);
      await publishing;
      const offsets = await transport.consumerLag(uniqueName('group'), [topic]);
      expect(offsets.map((o) => o.endOffset)).toEqual(['1']);
      await givingUp;
    } finally {
      await Promise.all([late.close(), impatient.close()]);
    }
  });

  it('fails a ping quickly when no broker answers', async () => {
    const unreachable = new KafkaTransport({ brokers: ['127.0.0.1:1'], clientId: 'gancho-test', pingTimeoutMs: 60_000 });
    // The refused connection itself, not a retry loop running into the ping's bound.
    await expect(unreachable.ping()).rejects.toThrow('Connection error: connect ECONNREFUSED 127.0.0.1:1');
    await unreachable.close();
  });
  it('puts off the offset commits of a quiet flow, and commits what it handled when it stops', async () => {
    const topic = await freshTopic(1);
    const groupId = uniqueName('deferred-commits');
    const quiet = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'gancho-test-deferred', maxWaitTimeMs: 250, commitIntervalMs: 600_000 });
    const handled: string[] = [];
    try {
      const subscription = await quiet.subscribe({ groupId, topics: [topic], fromBeginning: true, handle: async (m) => void handled.push(m.value.toString()) });
      // The first batch is committed at once (nothing was committed before); the next ones are put off.
      await quiet.publish(topic, [{ key: 'k', value: 'first' }]);
      await eventually(() => expect(handled).toEqual(['first']));
      await eventually(async () => expect((await quiet.consumerLag(groupId, [topic]))[0]).toMatchObject({ committedOffset: '1' }));
      for (const value of ['second', 'third', 'fourth']) {
        await quiet.publish(topic, [{ key: 'k', value }]);
        await eventually(() => expect(handled.at(-1)).toBe(value));
      }
      expect((await quiet.consumerLag(groupId, [topic]))[0]).toMatchObject({ committedOffset: '1', lag: 3 });
      await subscription.stop();
      expect((await quiet.consumerLag(groupId, [topic]))[0]).toMatchObject({ committedOffset: '4', lag: 0 });
    } finally {
      await quiet.close();
    }
  });
});
