import { eventually, kafkaBrokers, uniqueName } from '@gancho/testing';
import { KafkaTransport } from './kafka-transport';

// Kafka-specific scenarios, on the real broker. What every adapter promises
// (round trip, per-key order, groups, committed offsets, redelivery of failed
// messages and batches, a crashed consumer process) is the shared suite in
// kafka-transport.contract.int.spec.ts.
// - a message that always fails is retried with backoff, not in a busy loop;
// - ping fails fast when no broker answers.
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
    let attempts = 0;
    const subscription = await patient.subscribe({
      groupId: uniqueName('group'),
      topics: [topic],
      fromBeginning: true,
      handle: async () => {
        attempts += 1;
        throw new Error('always fails');
      },
    });
    try {
      await patient.publish(topic, [{ key: 'k', value: 'poison' }]);
      await eventually(() => expect(attempts).toBeGreaterThanOrEqual(2));
      const before = attempts;
      await new Promise((r) => setTimeout(r, 1500));
      // About one attempt per 200 ms (plus a fetch); without backoff, hundreds.
      expect(attempts - before).toBeGreaterThanOrEqual(3);
      expect(attempts - before).toBeLessThanOrEqual(10);
    } finally {
      await subscription.stop();
      await patient.close();
    }
  });

  it('fails a ping quickly when no broker answers', async () => {
    const unreachable = new KafkaTransport({ brokers: ['127.0.0.1:1'], clientId: 'gancho-test', pingTimeoutMs: 1500 });
    const started = Date.now();
    await expect(unreachable.ping()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    await unreachable.close();
  });
});
