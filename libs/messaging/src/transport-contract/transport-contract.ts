import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import type { EventTransport, IncomingMessage, OutgoingMessage, SubscribeOptions, Subscription } from '../event-transport';

/**
 * How a child process builds the same transport, for the crash test:
 * `new (require(modulePath)[exportName])(options)`.
 */
export interface ChildTransportRecipe {
  /** Absolute path of the adapter's TypeScript source; the child compiles it with SWC. */
  modulePath: string;
  exportName: string;
  /** Constructor options; JSON only (no `log` function). */
  options: Record<string, unknown>;
}

export interface TransportContractOptions {
  childTransport: () => ChildTransportRecipe;
  /** Runs after the suite, once every transport it made is closed. */
  cleanup?: () => Promise<void>;
}

/**
 * The behaviour every EventTransport adapter promises (see event-transport.ts),
 * as one Jest suite. `makeTransport` should give a transport with short waits
 * (poll interval, fetch wait, redelivery backoff of tens of milliseconds): the
 * tests wait for outcomes, not for fixed times. Each call is a "process" of its
 * own; the suite closes every transport it made.
 *
 * This file is test support: it is not exported from the package index, and it
 * does not import @gancho/testing (only *.spec.ts files may), so it carries its
 * own `eventually` and unique names.
 */
export function describeEventTransportContract(name: string, makeTransport: () => Promise<EventTransport> | EventTransport, { childTransport, cleanup }: TransportContractOptions): void {
  describe(`${name} keeps the event transport contract`, () => {
    const transports: EventTransport[] = [];
    const subscriptions: Subscription[] = [];
    afterEach(async () => {
      await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
      await Promise.all(transports.splice(0).map((t) => t.close()));
    });
    afterAll(async () => {
      await cleanup?.();
    });

    async function open(): Promise<EventTransport> {
      const transport = await makeTransport();
      transports.push(transport);
      return transport;
    }
    async function freshTopic(transport: EventTransport, partitions: number): Promise<string> {
      const topic = unique('test.contract');
      await transport.ensureTopics([{ topic, partitions }]);
      return topic;
    }
    async function subscribe(transport: EventTransport, options: SubscribeOptions): Promise<Subscription> {
      const subscription = await transport.subscribe(options);
      subscriptions.push(subscription);
      return subscription;
    }

    it('round-trips messages with key, headers, value bytes and a timestamp, in offset order', async () => {
      const transport = await open();
      const topic = await freshTopic(transport, 1);
      const received: IncomingMessage[] = [];
      await subscribe(transport, { groupId: unique('group'), topics: [topic], fromBeginning: true, handle: async (m) => void received.push(m) });
      const before = Date.now();
      const bytes = Buffer.from([0, 1, 2, 254, 255]);
      await transport.publish(topic, [
        { key: 'purchase:1', value: bytes, headers: { ce_id: 'event-1', 'content-type': 'application/json' } },
        { key: 'purchase:1', value: 'texto ✓' },
      ]);

      await eventually(() => expect(received).toHaveLength(2));
      const [first, second] = received as [IncomingMessage, IncomingMessage];
      expect(first).toMatchObject({ topic, partition: 0, key: 'purchase:1', headers: { ce_id: 'event-1', 'content-type': 'application/json' } });
      expect(first.value.equals(bytes)).toBe(true);
      expect(second.value.toString('utf8')).toBe('texto ✓');
      expect(second.headers).toEqual({});
      expect(BigInt(second.offset)).toBe(BigInt(first.offset) + 1n);
      // Same machine, so the clocks agree to well within two seconds.
      expect(first.timestamp).toBeGreaterThanOrEqual(before - 2000);
      expect(first.timestamp).toBeLessThanOrEqual(Date.now() + 2000);
    });

    it('keeps per-key order over several partitions and publish calls', async () => {
      const transport = await open();
      const topic = await freshTopic(transport, 4);
      const received: IncomingMessage[] = [];
      await subscribe(transport, { groupId: unique('group'), topics: [topic], fromBeginning: true, handle: async (m) => void received.push(m) });
      for (const from of [0, 36, 72]) await transport.publish(topic, numbered(36, from));

      await eventually(() => expect(received).toHaveLength(108));
      expect(ascending(received.map(n))).toEqual(range(0, 108));
      for (const numbers of perKey(received.map(n))) {
        expect(numbers).toEqual(ascending(numbers));
        expect(numbers).toHaveLength(108 / keys.length);
      }
      for (const key of keys) expect(new Set(received.filter((m) => m.key === key).map((m) => m.partition)).size).toBe(1);
      expect(new Set(received.map((m) => m.partition)).size).toBeGreaterThan(1);
    });

    it('shares a group between two members, each message handled by exactly one of them', async () => {
      const [a, b] = [await open(), await open()];
      const topic = await freshTopic(a, 4);
      const groupId = unique('group');
      const handledBy = { a: [] as number[], b: [] as number[] };
      await subscribe(a, { groupId, topics: [topic], fromBeginning: true, handle: async (m) => void handledBy.a.push(n(m)) });
      await subscribe(b, { groupId, topics: [topic], fromBeginning: true, handle: async (m) => void handledBy.b.push(n(m)) });

      // Settling: probes (numbers from 10 000) on every key until both members get some.
      let probe = 10_000;
      await eventually(
        async () => {
          if (handledBy.a.length === 0 || handledBy.b.length === 0) await a.publish(topic, numbered(keys.length, probe));
          probe += keys.length;
          expect(handledBy.a.length).toBeGreaterThan(0);
          expect(handledBy.b.length).toBeGreaterThan(0);
        },
        { timeoutMs: 30_000, intervalMs: 300 },
      );

      const real = (numbers: number[]) => numbers.filter((i) => i < 10_000);
      await b.publish(topic, numbered(60));
      await eventually(() => expect(real(handledBy.a).length + real(handledBy.b).length).toBeGreaterThanOrEqual(60));
      // A short settle, then a marker per key behind anything that would still come twice.
      await a.publish(topic, numbered(keys.length, 100));
      await eventually(() => expect(real(handledBy.a).length + real(handledBy.b).length).toBe(60 + keys.length));
      const all = [...real(handledBy.a), ...real(handledBy.b)];
      expect(ascending(all)).toEqual([...Array.from({ length: 60 }, (_, i) => i), ...Array.from({ length: keys.length }, (_, i) => 100 + i)]);
      expect(real(handledBy.a).length).toBeGreaterThan(0);
      expect(real(handledBy.b).length).toBeGreaterThan(0);
    });

    it('resumes a group from its committed offsets after a restart: only new messages come', async () => {
      const topic = await freshTopic(await open(), 2);
      const groupId = unique('group');
      const firstProcess = await open();
      const firstRun: number[] = [];
      const first = await firstProcess.subscribe({ groupId, topics: [topic], fromBeginning: true, handle: async (m) => void firstRun.push(n(m)) });
      await firstProcess.publish(topic, numbered(20));
      await eventually(() => expect(ascending(firstRun)).toEqual(range(0, 20)));
      await first.stop();
      await firstProcess.close();

      const secondProcess = await open();
      await secondProcess.publish(topic, numbered(10, 20));
      const secondRun: number[] = [];
      await subscribe(secondProcess, { groupId, topics: [topic], fromBeginning: true, handle: async (m) => void secondRun.push(n(m)) });
      // Per partition, anything committed that came again would arrive before the new messages.
      await eventually(() => expect(ascending(secondRun)).toEqual(range(20, 30)));
    });

    it('delivers again a message whose handler threw, and holds back the later messages of its key', async () => {
      const transport = await open();
      const topic = await freshTopic(transport, 3);
      const failOnce = new Set([3, 14, 15, 27, 42, 59]);
      const attempts: number[] = [];
      const handled: number[] = [];
      await subscribe(transport, {
        groupId: unique('group'),
        topics: [topic],
        fromBeginning: true,
        handle: async (m) => {
          attempts.push(n(m));
          if (failOnce.delete(n(m))) throw new Error(`fails once: ${n(m)}`);
          handled.push(n(m));
        },
      });
      await transport.publish(topic, numbered(60));

      await eventually(() => expect(handled).toHaveLength(60));
      expect(ascending(handled)).toEqual(range(0, 60));
      // Each failed message was tried twice; nothing handled before it came again.
      const tries = new Map<number, number>();
      for (const i of attempts) tries.set(i, (tries.get(i) ?? 0) + 1);
      for (let i = 0; i < 60; i++) expect([i, tries.get(i)]).toEqual([i, [3, 14, 15, 27, 42, 59].includes(i) ? 2 : 1]);
      // Retried before anything after it on its key.
      for (const numbers of perKey(attempts)) expect(numbers).toEqual(ascending(numbers));
    });

    it('consumes in batches of one partition each: every message once, per-key order, nothing again after a restart', async () => {
      const transport = await open();
      const topic = await freshTopic(transport, 3);
      const groupId = unique('group');
      await transport.publish(topic, numbered(120));
      const batches: IncomingMessage[][] = [];
      const first = await transport.subscribe({ groupId, topics: [topic], fromBeginning: true, handleBatch: async (messages) => void batches.push(messages) });
      try {
        await eventually(() => expect(batches.flat()).toHaveLength(120));
      } finally {
        await first.stop();
      }
      const received = batches.flat();
      expect(ascending(received.map(n))).toEqual(range(0, 120));
      expect(batches.some((batch) => batch.length > 1)).toBe(true);
      for (const batch of batches) {
        expect(new Set(batch.map((m) => m.partition)).size).toBe(1);
        const offsets = batch.map((m) => Number(m.offset));
        expect(offsets).toEqual(range(offsets[0] ?? 0, (offsets[0] ?? 0) + offsets.length));
      }
      for (const numbers of perKey(received.map(n))) expect(numbers).toEqual(ascending(numbers));

      await transport.publish(topic, numbered(keys.length, 120));
      const secondRun: number[] = [];
      await subscribe(transport, { groupId, topics: [topic], fromBeginning: true, handleBatch: async (messages) => void secondRun.push(...messages.map(n)) });
      await eventually(() => expect(ascending(secondRun)).toEqual(range(120, 120 + keys.length)));
    });

    it('delivers a failed batch again whole, and not the batches committed before it', async () => {
      const transport = await open();
      const topic = await freshTopic(transport, 3);
      const failOnce = new Set([60, 89]);
      const failed: number[][] = [];
      const succeeded: number[][] = [];
      await subscribe(transport, {
        groupId: unique('group'),
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
      await transport.publish(topic, numbered(45));
      await eventually(() => expect(succeeded.flat()).toHaveLength(45));
      await transport.publish(topic, numbered(45, 45));
      await eventually(() => expect(succeeded.flat()).toHaveLength(90));

      expect(ascending(succeeded.flat())).toEqual(range(0, 90));
      expect(failed.length).toBeGreaterThan(0);
      for (const batch of failed) for (const i of batch) expect(i).toBeGreaterThanOrEqual(45);
      for (const numbers of perKey(succeeded.flat())) expect(numbers).toEqual(ascending(numbers));
    });

    it('starts a new group at the end with fromBeginning: false', async () => {
      const transport = await open();
      const topic = await freshTopic(transport, 2);
      await transport.publish(topic, numbered(20));
      const received: number[] = [];
      await subscribe(transport, { groupId: unique('group'), topics: [topic], fromBeginning: false, handle: async (m) => void received.push(n(m)) });
      // Until the group has joined, new messages may be skipped too; keep sending until one arrives.
      let next = 1000;
      await eventually(
        async () => {
          if (received.length === 0) await transport.publish(topic, numbered(keys.length, next));
          next += keys.length;
          expect(received.length).toBeGreaterThan(0);
        },
        { timeoutMs: 30_000, intervalMs: 300 },
      );
      expect(received.filter((i) => i < 1000)).toEqual([]);
    });

    it('gives every message to each of two groups', async () => {
      const transport = await open();
      const topic = await freshTopic(transport, 2);
      const byGroup = [[], []] as [number[], number[]];
      for (const handled of byGroup) {
        await subscribe(transport, { groupId: unique('group'), topics: [topic], fromBeginning: true, handle: async (m) => void handled.push(n(m)) });
      }
      await transport.publish(topic, numbered(30));
      await eventually(() => {
        expect(ascending(byGroup[0])).toEqual(range(0, 30));
        expect(ascending(byGroup[1])).toEqual(range(0, 30));
      });
    });

    it('wants exactly one of handle and handleBatch', async () => {
      const transport = await open();
      const topic = await freshTopic(transport, 1);
      const both = { groupId: unique('group'), topics: [topic], handle: async () => undefined, handleBatch: async () => undefined };
      await expect(transport.subscribe(both as unknown as SubscribeOptions)).rejects.toThrow(/exactly one/);
      const neither = { groupId: unique('group'), topics: [topic] };
      await expect(transport.subscribe(neither as unknown as SubscribeOptions)).rejects.toThrow(/exactly one/);
    });

    it('answers a ping', async () => {
      const transport = await open();
      await expect(transport.ping()).resolves.toBeUndefined();
    });

    it('redelivers after a crash: a SIGKILLed consumer process leaves nothing unhandled, and per-key order holds', async () => {
      const transport = await open();
      const topic = await freshTopic(transport, 3);
      const groupId = unique('group');
      const total = 40;
      await transport.publish(topic, numbered(total));

      const child = startCrashConsumer({ recipe: childTransport(), groupId, topic, handleMs: 100 });
      try {
        await eventually(() => expect(child.handled().length).toBeGreaterThanOrEqual(5), { timeoutMs: 40_000 });
      } catch (error) {
        await child.kill();
        throw new Error(`the child consumer did not get going: ${String(error)}\n${child.output()}`);
      }
      await child.kill();
      const handledBeforeCrash = new Set(child.handled());
      expect(handledBeforeCrash.size).toBeLessThan(total);

      const afterRestart: number[] = [];
      await subscribe(transport, { groupId, topics: [topic], fromBeginning: true, handle: async (m) => void afterRestart.push(n(m)) });
      const unhandled = range(0, total).filter((i) => !handledBeforeCrash.has(i));
      await eventually(() => expect(afterRestart).toEqual(expect.arrayContaining(unhandled)), { timeoutMs: 40_000 });
      // Including the message in hand when the process died (started, never finished).
      for (const i of child.started()) if (!handledBeforeCrash.has(i)) expect(afterRestart).toContain(i);
      for (const numbers of perKey(afterRestart)) expect(numbers).toEqual(ascending(numbers));
    });
  });
}

/** Twelve keys; message number i has key i mod 12, and its value is the number. */
const keys = Array.from({ length: 12 }, (_, k) => `purchase:${k}`);
function numbered(count: number, from = 0): OutgoingMessage[] {
  return Array.from({ length: count }, (_, i) => ({ key: keys[(from + i) % keys.length] ?? 'none', value: String(from + i) }));
}
const n = (m: IncomingMessage): number => Number(m.value.toString());
/** Message numbers grouped by their key, in the order seen. */
const perKey = (numbers: number[]): number[][] => keys.map((_, k) => numbers.filter((i) => i % keys.length === k));
const ascending = (numbers: number[]): number[] => [...numbers].sort((a, b) => a - b);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function unique(prefix: string): string {
  return `${prefix}.${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/** Retries an assertion until it passes or the time runs out; rethrows the last failure. */
async function eventually(assertion: () => unknown, { timeoutMs = 15_000, intervalMs = 50 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

interface CrashConsumer {
  started(): number[];
  handled(): number[];
  output(): string;
  /** SIGKILL: a crash, no shutdown code runs. */
  kill(): Promise<void>;
}

function startCrashConsumer(input: { recipe: ChildTransportRecipe; groupId: string; topic: string; handleMs: number }): CrashConsumer {
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', path.join(__dirname, 'crash-consumer.cjs')], {
    env: { ...process.env, GANCHO_CRASH_CONSUMER: JSON.stringify(input) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = (word: string) =>
    output
      .split('\n')
      .filter((line) => line.startsWith(`${word} `))
      .map((line) => Number(line.slice(word.length + 1)));
  return {
    started: () => lines('started'),
    handled: () => lines('handled'),
    output: () => output,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
