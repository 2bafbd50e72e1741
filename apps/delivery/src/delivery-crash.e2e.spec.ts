import path from 'node:path';
import { messageIdFor } from '@gancho/delivery-domain';
import { createTestDatabase, eventually, startServiceProcess, uniqueName, type ServiceProcess, type TestDatabase } from '@gancho/testing';
import { deliveryEnv, SubscriptionsStandIn, TestReceiver, testTopics } from './testing/delivery-test-kit';

const mainFile = path.join(__dirname, '..', 'dist', 'main.js');

// With real processes: the delivery service runs as `node dist/main.js` while
// status events keep arriving for three endpoints. It is SIGKILLed mid-stream
// and started again. Every expected delivery must arrive at least once
// (counted by unique webhook-id), none at a wrong endpoint, every signature
// must verify, and duplicates are counted.
describe('delivery crash (SIGKILL) under load', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let delivery: ServiceProcess;
  let receivers: TestReceiver[];
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase('delivery_crash');
    await subscriptions.createTopics();
    receivers = await Promise.all([0, 1, 2].map(() => new TestReceiver().start()));
    env = deliveryEnv(
      database.url,
      topics,
      receivers.map((r) => r.host),
      { REQUEST_TIMEOUT_MS: '1000', KAFKA_SESSION_TIMEOUT_MS: '6000', ENDPOINTS_WARMUP_MS: '1000' },
    );
    delivery = await startServiceProcess(mainFile, env);
  });
  afterAll(async () => {
    await delivery?.kill();
    await subscriptions.close();
    await Promise.all(receivers?.map((r) => r.stop()) ?? []);
    await database?.drop();
  });

  it('delivers every message at least once across the crash, each to its own endpoint', async () => {
    const partner = uniqueName('ptn');
    const endpoints = await Promise.all(receivers.map((r) => subscriptions.putEndpoint({ partnerId: partner, url: r.url() })));
    receivers.forEach((r, i) => (r.secrets = endpoints[i]!.secrets));
    await subscriptions.routedBy(
      delivery.url,
      partner,
      endpoints.map((e) => e.endpointId),
    );

    const total = 240;
    const eventIds: string[] = [];
    let killedAt = -1;
    for (let i = 0; i < total; i++) {
      eventIds.push((await subscriptions.publishStatus(partner, 'waiting_payment', { purchase_id: `pur_${i.toString(16).padStart(32, '0')}`, sequence: 1 })).eventId);
      if (i === 100) {
        // Mid-stream: some delivered, most not (a busy machine only makes this take longer).
        await eventually(() => expect(receivers[0]!.received.length).toBeGreaterThan(20), { timeoutMs: 60_000, intervalMs: 5 });
        killedAt = receivers.reduce((n, r) => n + r.received.length, 0);
        await delivery.kill();
        delivery = await startServiceProcess(mainFile, env);
      }
      if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }

    await eventually(
      () => {
        receivers.forEach((r, i) => {
          const expected = new Set(eventIds.map((id) => messageIdFor(id, endpoints[i]!.endpointId)));
          expect(new Set(r.ids().filter((id) => expected.has(id))).size).toBe(total);
        });
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    let duplicates = 0;
    receivers.forEach((r, i) => {
      const expected = new Set(eventIds.map((id) => messageIdFor(id, endpoints[i]!.endpointId)));
      expect(r.ids().every((id) => expected.has(id))).toBe(true);
      expect(r.verificationFailures).toEqual([]);
      duplicates += r.received.length - new Set(r.ids()).size;
    });
    process.stdout.write(`delivery crash: ${total * receivers.length} expected deliveries, ${killedAt} before the SIGKILL, all received, ${duplicates} duplicates (same webhook-id)\n`);
    expect(killedAt).toBeLessThan(total * receivers.length);
  });
});
