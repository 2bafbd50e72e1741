import { eventually, kafkaBrokers, uniqueName } from '@gancho/testing';
import type { IncomingMessage, SubscribeOptions } from '../event-transport';
import { KafkaTransport } from './kafka-transport';

// Scenarios, on the real broker:
// - a consumer group receives what a producer sent, with key, headers and per-key order;
// - offsets the group committed survive a consumer restart: only new messages come back;
// - a handler that throws gets the same message again;
// - batch mode: 200 messages over 3 partitions and 10 keys arrive once each, in
//   per-key order, and a restarted group gets none of them again;
// - single-message mode, failing handler: failed messages come again, the ones
//   handled before them do not, per-key order holds;
// - batch mode, failing handler: the failed batch comes again whole, committed
//   batches do not;
// - a message that always fails is retried with backoff, not in a busy loop;
// - subscribe wants exactly one of handle and handleBatch;
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

  // Short fetch waits and redelivery backoff keep these tests quick.
  const quick = new KafkaTransport({
    brokers: kafkaBrokers(),
    clientId: 'gancho-test-quick',
    maxWaitTimeMs: 250,
    redeliveryBackoffMs: { initial: 50, max: 400 },
  });
  afterAll(() => quick.close());

  const keys = Array.from({ length: 10 }, (_, k) => `purchase:${k}`);
  const numbered = (count: number, from = 0) =>
    Array.from({ length: count }, (_, i) => ({ key: keys[(from + i) % keys.length] ?? 'none', value: String(from + i) }));
  const n = (m: IncomingMessage) => Number(m.value.toString());
  /** Message numbers grouped by their key (number i has key i mod 10), in the order seen. */
  const perKey = (numbers: number[]) => keys.map((_, k) => numbers.filter((i) => i % keys.length === k));
  const ascending = (numbers: number[]) => [...numbers].sort((a, b) => a - b);

  it('consumes in batches: each message once, per-key order, nothing again after a restart', async () => {
    const topic = await freshTopic(3);
    const groupId = uniqueName('group');
    await quick.publish(topic, numbered(200));

    const batches: IncomingMessage[][] = [];
    const first = await quick.subscribe({
      groupId,
      topics: [topic],
      fromBeginning: true,
      handleBatch: async (messages) => void batches.push(messages),
    });
    const received = () => batches.flat();
    try {
      await eventually(() => expect(received()).toHaveLength(200));
    } finally {
      await first.stop();
    }
    expect(new Set(received().map(n)).size).toBe(200);
    expect(batches.some((b) => b.length > 1)).toBe(true);
    for (const batch of batches) {
      expect(new Set(batch.map((m) => m.partition)).size).toBe(1);
      const offsets = batch.map((m) => BigInt(m.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    expect(received().every((m) => m.key === keys[n(m) % keys.length])).toBe(true);
    for (const numbers of perKey(received().map(n))) {
      expect(numbers).toEqual(ascending(numbers));
      expect(numbers).toHaveLength(20);
    }
    // With every partition holding some key, a new message per key arrives
    // behind anything of that partition that would wrongly come again.
    expect(new Set(received().map((m) => m.partition))).toEqual(new Set([0, 1, 2]));
    await quick.publish(topic, numbered(10, 200));
    const secondRun: IncomingMessage[] = [];
    const second = await quick.subscribe({
      groupId,
      topics: [topic],
      fromBeginning: true,
      handleBatch: async (messages) => void secondRun.push(...messages),
    });
    try {
      await eventually(() => expect(ascending(secondRun.map(n))).toEqual(numbered(10, 200).map((m) => Number(m.value))));
    } finally {
      await second.stop();
    }
  });

  it('redelivers from a failed message on, and not what was handled before it', async () => {
    const topic = await freshTopic(3);
    await quick.publish(topic, numbered(60));
    const failOnce = new Set([3, 14, 15, 27, 42, 59]);
    const attempts: IncomingMessage[] = [];
    const handled: IncomingMessage[] = [];
    const subscription = await quick.subscribe({
      groupId: uniqueName('group'),
      topics: [topic],
      fromBeginning: true,
      handle: async (m) => {
        attempts.push(m);
        if (failOnce.delete(n(m))) throw new Error(`fails once: ${n(m)}`);
        handled.push(m);
      },
    });
    try {
      await eventually(() => expect(handled).toHaveLength(60));
    } finally {
      await subscription.stop();
    }
    const tries = new Map<number, number>();
    for (const m of attempts) tries.set(n(m), (tries.get(n(m)) ?? 0) + 1);
    for (let i = 0; i < 60; i++) expect([i, tries.get(i)]).toEqual([i, [3, 14, 15, 27, 42, 59].includes(i) ? 2 : 1]);
    // A failed message is tried again before anything after it on its key.
    for (const numbers of perKey(attempts.map(n))) expect(numbers).toEqual(ascending(numbers));
  });

  it('redelivers a failed batch whole, and not the batches committed before it', async () => {
    const topic = await freshTopic(3);
    const failOnce = new Set([60, 89]);
    const failed: number[][] = [];
    const succeeded: number[][] = [];
    const subscription = await quick.subscribe({
      groupId: uniqueName('group'),
      topics: [topic],
      fromBeginning: true,
      handleBatch: async (messages) => {
        const numbers = messages.map(n);
        const poisoned = numbers.filter((i) => failOnce.delete(i));
        if (poisoned.length > 0) {
          failed.push(numbers);
          throw new Error(`fails once: ${poisoned.join(',')}`);
        }
        succeeded.push(numbers);
      },
    });
    try {
      await quick.publish(topic, numbered(45));
      await eventually(() => expect(succeeded.flat()).toHaveLength(45));
      await quick.publish(topic, numbered(45, 45));
      await eventually(() => expect(succeeded.flat()).toHaveLength(90));
    } finally {
      await subscription.stop();
    }
    // Committed batches never came again; failed ones held only later messages
    // and every one of their messages was handled afterwards.
    expect(new Set(succeeded.flat()).size).toBe(90);
    expect(failed.length).toBeGreaterThan(0);
    for (const batch of failed) for (const i of batch) expect(i).toBeGreaterThanOrEqual(45);
    for (const numbers of perKey(succeeded.flat())) expect(numbers).toEqual(ascending(numbers));
  });

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

  it('wants exactly one of handle and handleBatch', async () => {
    const topic = await freshTopic(1);
    const both = { groupId: uniqueName('group'), topics: [topic], handle: async () => undefined, handleBatch: async () => undefined };
    await expect(quick.subscribe(both as unknown as SubscribeOptions)).rejects.toThrow(/exactly one/);
    const neither = { groupId: uniqueName('group'), topics: [topic] };
    await expect(quick.subscribe(neither as unknown as SubscribeOptions)).rejects.toThrow(/exactly one/);
  });

  it('fails a ping quickly when no broker answers', async () => {
    const unreachable = new KafkaTransport({ brokers: ['127.0.0.1:1'], clientId: 'gancho-test', pingTimeoutMs: 1500 });
    const started = Date.now();
    await expect(unreachable.ping()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    await unreachable.close();
  });
});
