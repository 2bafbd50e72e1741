import { Controller, type INestMicroservice, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload, type MicroserviceOptions } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { eventually, kafkaBrokers, uniqueName } from '@gancho/testing';
import { map, timer, type Observable } from 'rxjs';
import type { EventTransport } from '../event-transport';
import { KafkaTransport } from '../kafka/kafka-transport';
import { connectEventTransportConsumer } from './connect-event-transport-consumer';
import { EventTransportContext } from './event-transport.context';
import { EventTransportServer } from './event-transport.server';

// Scenarios, a NestJS app consuming through EventTransportServer on the real broker:
// - CloudEvents binary mode: the handler gets the parsed JSON and the ce_* headers,
//   the offset, key and timestamp; a value without a JSON content type stays raw bytes
//   (through connectEventTransportConsumer on a hybrid app);
// - a handler that throws, or whose Observable errors, gets the message again, in order;
// - an async handler's completion gates the commit: stopped right after message N
//   resolved, the same group restarts at N+1.
describe('EventTransportServer (NestJS custom transport) on a real broker', () => {
  const transport = new KafkaTransport({
    brokers: kafkaBrokers(),
    clientId: 'gancho-test-nest',
    maxWaitTimeMs: 250,
    redeliveryBackoffMs: { initial: 50, max: 400 },
  });
  const apps: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const app of apps.splice(0).reverse()) await app.close();
  });
  afterAll(() => transport.close());

  async function freshTopic(): Promise<string> {
    const topic = uniqueName('test.nest-strategy');
    await transport.ensureTopics([{ topic, partitions: 1 }]);
    return topic;
  }

  type Handle = (data: unknown, context: EventTransportContext) => unknown;

  /** A controller with one @EventPattern(topic) handler that does what `handle` does. */
  function controllerFor(topic: string, handle: Handle): Type {
    @Controller()
    class EventsController {
      @EventPattern(topic)
      on(@Payload() data: unknown, @Ctx() context: EventTransportContext): unknown {
        return handle(data, context);
      }
    }
    return EventsController;
  }

  async function startMicroservice(topic: string, groupId: string, handle: Handle, via: EventTransport = transport): Promise<INestMicroservice> {
    const moduleRef = await Test.createTestingModule({ controllers: [controllerFor(topic, handle)] }).compile();
    const app = moduleRef.createNestMicroservice<MicroserviceOptions>({
      strategy: new EventTransportServer(via, { groupId, topics: [topic], fromBeginning: true }),
      logger: false,
    });
    await app.listen();
    apps.push(app);
    return app;
  }

  const cloudEvent = (id: string, data: object) => ({
    key: 'pur_1',
    value: JSON.stringify(data),
    headers: {
      ce_specversion: '1.0',
      ce_id: id,
      ce_type: 'purchase.waiting_payment',
      ce_source: '/journey',
      'content-type': 'application/json',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    },
  });

  it('hands a CloudEvents binary-mode message to @EventPattern as parsed JSON with its context', async () => {
    const topic = await freshTopic();
    const received: Array<{ data: unknown; context: EventTransportContext }> = [];
    const moduleRef = await Test.createTestingModule({
      controllers: [controllerFor(topic, (data, context) => void received.push({ data, context }))],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    connectEventTransportConsumer(app, transport, { groupId: uniqueName('group'), topics: [topic], fromBeginning: true });
    await app.startAllMicroservices();
    await app.init();
    apps.push(app);

    const before = Date.now();
    await transport.publish(topic, [
      cloudEvent('evt_1', { purchase_id: 'pur_1', status: 'waiting_payment', sequence: 7 }),
      { key: 'pur_1', value: Buffer.from([0xde, 0xad]), headers: { 'content-type': 'application/octet-stream' } },
    ]);
    await eventually(() => expect(received).toHaveLength(2));

    const [json, raw] = received;
    expect(json?.data).toEqual({ purchase_id: 'pur_1', status: 'waiting_payment', sequence: 7 });
    expect(json?.context).toBeInstanceOf(EventTransportContext);
    expect(json?.context.headers).toMatchObject({ ce_id: 'evt_1', ce_type: 'purchase.waiting_payment', 'content-type': 'application/json' });
    expect(json?.context.headers.traceparent).toMatch(/^00-/);
    expect(json?.context).toMatchObject({ topic, partition: 0, offset: '0', key: 'pur_1' });
    expect(json?.context.timestamp).toBeGreaterThanOrEqual(before - 5000);
    const [message] = json?.context.getArgs() ?? [];
    expect(message?.value.toString()).toBe(JSON.stringify(json?.data));
    expect(raw?.data).toEqual(Buffer.from([0xde, 0xad]));
    expect(raw?.context.offset).toBe('1');
  });

  it('delivers a message again when its handler throws or its Observable errors', async () => {
    const topic = await freshTopic();
    const attempts: string[] = [];
    const handledOk: string[] = [];
    await startMicroservice(topic, uniqueName('group'), (data) => {
      const id = (data as { id: string }).id;
      attempts.push(id);
      const first = attempts.filter((a) => a === id).length === 1;
      if (id === 'a' && first) throw new Error('handler throws once');
      if (id === 'b') {
        return timer(20).pipe(
          map(() => {
            if (first) throw new Error('observable errors once');
            handledOk.push(id);
          }),
        ) satisfies Observable<void>;
      }
      handledOk.push(id);
      return undefined;
    });
    await transport.publish(
      topic,
      ['a', 'b', 'c'].map((id) => cloudEvent(id, { id })),
    );
    await eventually(() => expect(handledOk).toEqual(['a', 'b', 'c']));
    expect(attempts).toEqual(['a', 'a', 'b', 'b', 'c']);
  });

  it('commits only after an async handler resolved: a restart resumes right after it', async () => {
    const topic = await freshTopic();
    const groupId = uniqueName('group');
    const started: number[] = [];
    const finished: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The real transport, telling when the server asks its subscription to stop.
    let stopAsked = false;
    const observed = Object.create(transport) as KafkaTransport;
    observed.subscribe = async (options) => {
      const subscription = await transport.subscribe(options);
      return {
        stop: () => {
          stopAsked = true;
          return subscription.stop();
        },
      };
    };
    const app = await startMicroservice(
      topic,
      groupId,
      async (data) => {
        const n = (data as { n: number }).n;
        started.push(n);
        if (n === 2) await gate;
        finished.push(n);
      },
      observed,
    );
    await transport.publish(
      topic,
      [1, 2, 3, 4].map((n) => cloudEvent(`evt_${n}`, { n })),
    );
    await eventually(() => expect(started).toEqual([1, 2]));

    // Stop while message 2 is in hand, then let it resolve: stopping waits for
    // it, commits it (the restart below proves the commit), and takes nothing further.
    let finishedWhenClosed: number[] | undefined;
    const closing = app.close().then(() => (finishedWhenClosed = [...finished]));
    // Released only once stopping has begun: a close that did not wait for the handler would have ended by now.
    await eventually(() => expect(stopAsked).toBe(true));
    expect(finished).toEqual([1]);
    release();
    await closing;
    expect(finishedWhenClosed).toEqual([1, 2]);
    expect(started).toEqual([1, 2]);

    const again: number[] = [];
    await startMicroservice(topic, groupId, async (data) => void again.push((data as { n: number }).n));
    await eventually(() => expect(again).toEqual([3, 4]));
  });
});
