import path from 'node:path';
import { messageIdFor } from '@gancho/delivery-domain';
import { createTestDatabase, eventually, startServiceProcess, uniqueName, type ServiceProcess, type TestDatabase } from '@gancho/testing';
import { deliveryEnv, SubscriptionsStandIn, TestReceiver, testTopics, purchaseId, purchaseOf, sequenceOf } from './testing/delivery-test-kit';

const mainFile = path.join(__dirname, '..', 'dist', 'main.js');
const purchase = purchaseId;

// With real processes: delivery runs as `node dist/main.js` and sends the
// events of 12 purchases, 8 each, to an endpoint with ordering "per_purchase"
// that answers slowly, so sequences are mid-flight when the process is
// SIGKILLed and started again. Every event arrives, and for every purchase
// the arrivals never go back in sequence (a message sent but not recorded
// before the kill is sent again before the next one, never after it).
describe('ordered delivery across a delivery crash (SIGKILL)', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let delivery: ServiceProcess;
  let receiver: TestReceiver;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase('ordering_crash');
    await subscriptions.createTopics();
    receiver = await new TestReceiver().start();
    receiver.respond = async () => {
      await new Promise((resolve) => setTimeout(resolve, 25));
      return { status: 204 };
    };
    env = deliveryEnv(database.url, topics, [receiver.host], { REQUEST_TIMEOUT_MS: '1000', KAFKA_SESSION_TIMEOUT_MS: '6000', ENDPOINTS_WARMUP_MS: '1000' });
    delivery = await startServiceProcess(mainFile, env);
  });
  afterAll(async () => {
    await delivery?.kill();
    await subscriptions.close();
    await receiver?.stop();
    await database?.drop();
  });

  it('keeps every purchase in order across the crash and delivers everything', async () => {
    const partner = uniqueName('ptn');
    const endpoint = await subscriptions.putEndpoint({ partnerId: partner, url: receiver.url(), ordering: 'per_purchase' });
    receiver.secrets = endpoint.secrets;
    await subscriptions.routedBy(delivery.url, partner, [endpoint.endpointId]);

    const purchases = 12;
    const perPurchase = 8;
    const eventIds: string[] = [];
    for (let sequence = 1; sequence <= perPurchase; sequence++) {
      for (let p = 1; p <= purchases; p++) eventIds.push((await subscriptions.publishStatus(partner, 'waiting_payment', { purchase_id: purchase(p), sequence })).eventId);
    }
    // Mid-stream: some delivered, most not (a busy machine only makes this take longer).
    await eventually(() => expect(receiver.received.length).toBeGreaterThan(20), { timeoutMs: 60_000, intervalMs: 5 });
    const beforeKill = receiver.received.length;
    await delivery.kill();
    delivery = await startServiceProcess(mainFile, env);

    const expected = new Set(eventIds.map((id) => messageIdFor(id, endpoint.endpointId)));
    await eventually(() => expect(new Set(receiver.ids().filter((id) => expected.has(id))).size).toBe(purchases * perPurchase), { timeoutMs: 60_000, intervalMs: 250 });
    expect(receiver.ids().every((id) => expected.has(id))).toBe(true);
    expect(receiver.verificationFailures).toEqual([]);
    for (let p = 1; p <= purchases; p++) {
      const sequences = receiver.received.filter((w) => purchaseOf(w) === purchase(p)).map(sequenceOf);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(new Set(sequences).size).toBe(perPurchase);
    }
    const duplicates = receiver.received.length - new Set(receiver.ids()).size;
    process.stdout.write(`ordered delivery crash: ${purchases * perPurchase} expected, ${beforeKill} received before the SIGKILL, all received in order, ${duplicates} duplicates\n`);
    expect(beforeKill).toBeLessThan(purchases * perPurchase);
  });
});
