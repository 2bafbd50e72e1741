import { eventually, kafkaBrokers, uniqueName } from '@gancho/testing';
import type { IncomingMessage } from '../event-transport';
import { KafkaTransport } from './kafka-transport';

// Scenarios, on the real broker:
// - a consumer group receives what a producer sent, with key, headers and per-key order;
// - offsets the group committed survive a consumer restart: only new messages come back;
// - a handler that throws gets the same message again;
// - ping fails fast when no broker answers.
describe('KafkaTransport on a real broker', () => {
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'gancho-test' });
  afterAll(() => transport.close());

  async function freshTopic(partitions = 3): Promise<string> {
    const topic = uniqueName('test.kafka-transport');
    await transport.ensureTopics([{ topic, partitions }]);
    return topic;
  }

  it('round-trips messages through a consumer group, keeping per-key order', async () => {
    const topic = await freshTopic();
    const received: IncomingMessage[] = [];
    const subscription = await transport.subscribe({
      groupId: uniqueName('group'),
      topics: [topic],
      fromBeginning: true,
      handle: async (message) => void received.push(message),
    });
    try {
      const messages = Array.from({ length: 20 }, (_, i) => ({
        key: `purchase:${i % 4}`,
        value: JSON.stringify({ n: i }),
        headers: { ce_id: `event-${i}` },
      }));
      await transport.publish(topic, messages);

      await eventually(() => expect(received).toHaveLength(20));
      for (let key = 0; key < 4; key++) {
        const ofKey = received.filter((m) => m.key === `purchase:${key}`).map((m) => JSON.parse(m.value.toString()).n);
        expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
        expect(ofKey).toHaveLength(5);
      }
      expect(received.find((m) => m.key === 'purchase:1')?.headers.ce_id).toBe('event-1');
    } finally {
      await subscription.stop();
    }
  });

  it('resumes a consumer group from its committed offset after a restart', async () => {
    const topic = await freshTopic(1);
    const groupId = uniqueName('group');
    const firstRun: string[] = [];
    const first = await transport.subscribe({
      groupId,
      topics: [topic],
      fromBeginning: true,
      handle: async (m) => void firstRun.push(m.value.toString()),
    });
    await transport.publish(topic, ['a', 'b', 'c'].map((value) => ({ key: 'k', value })));
    await eventually(() => expect(firstRun).toEqual(['a', 'b', 'c']));
    await first.stop();

    await transport.publish(topic, ['d', 'e'].map((value) => ({ key: 'k', value })));
    const secondRun: string[] = [];
    const second = await transport.subscribe({
      groupId,
      topics: [topic],
      fromBeginning: true,
      handle: async (m) => void secondRun.push(m.value.toString()),
    });
    try {
      await eventually(() => expect(secondRun).toEqual(['d', 'e']));
      // Nothing committed before the restart comes back late.
      await new Promise((r) => setTimeout(r, 500));
      expect(secondRun).toEqual(['d', 'e']);
    } finally {
      await second.stop();
    }
  });

  it('delivers a message again when its handler throws', async () => {
    const topic = await freshTopic(1);
    const attempts: string[] = [];
    const subscription = await transport.subscribe({
      groupId: uniqueName('group'),
      topics: [topic],
      fromBeginning: true,
      handle: async (m) => {
        attempts.push(m.value.toString());
        if (attempts.length === 1) throw new Error('handler failed once');
      },
    });
    try {
      await transport.publish(topic, [{ key: 'k', value: 'only' }]);
      await eventually(() => expect(attempts).toEqual(['only', 'only']), { timeoutMs: 30_000 });
    } finally {
      await subscription.stop();
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
