import { createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { SubscriptionsStandIn, TestReceiver, startDelivery, testTopics, purchaseId, purchaseOf, sequenceOf } from './testing/delivery-test-kit';

const purchase = purchaseId;

// Ordered endpoints (ordering: "per_purchase") and replays, on real
// PostgreSQL, Kafka and HTTP: messages that were given up while the endpoint
// was down re-enter in order when the partner recovers the window — the
// replay of a purchase's later event waits until its earlier one is settled,
// while other purchases flow. (Few failures in all: five in a row would open
// the endpoint's circuit for 30 s.)
describe('ordered delivery and replays', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  let receiver: TestReceiver;

  beforeAll(async () => {
    database = await createTestDatabase('ordering_replay');
    await subscriptions.createTopics();
    receiver = await new TestReceiver().start();
    service = await startDelivery(database.url, topics, [receiver.host], { RETRY_SCHEDULE: '0s', REQUEST_TIMEOUT_MS: '30000' });
  });
  afterAll(async () => {
    await service?.close();
    await subscriptions.close();
    await receiver?.stop();
    await database?.drop();
  });

  it('replays a recovered window in each purchase’s order', async () => {
    const partner = uniqueName('ptn');
    const key = await subscriptions.issueApiKey(partner);
    const ep = await subscriptions.putEndpoint({ partnerId: partner, url: receiver.url(), ordering: 'per_purchase' });
    receiver.secrets = ep.secrets;
    await subscriptions.routedBy(service.url, partner, [ep.endpointId]);
    const since = new Date(Date.now() - 1000).toISOString();

    // Down: each message of two purchases is tried once (in order) and given up.
    receiver.respond = () => ({ status: 503 });
    for (let sequence = 1; sequence <= 2; sequence++) {
      for (const p of [purchase(1), purchase(2)]) await subscriptions.publishStatus(partner, 'waiting_payment', { purchase_id: p, sequence });
    }
    await eventually(() => expect(receiver.received).toHaveLength(4), { timeoutMs: 20_000 });
    const sequences = (p: string) => receiver.received.filter((w) => purchaseOf(w) === p).map(sequenceOf);
    expect(sequences(purchase(1))).toEqual([1, 2]);
    const exhausted = async () => ((await (await fetch(`${service.url}/messages?endpoint_id=${ep.endpointId}&status=exhausted`, { headers: { authorization: `Bearer ${key}` } })).json()) as { items: unknown[] }).items;
    await eventually(async () => expect(await exhausted()).toHaveLength(4));

    // Back up; purchase 1's first replay is not answered until purchase 2 is through: its second must wait,
    // purchase 2's need not (held behind it, they would not come before the hold gives up).
    receiver.received.length = 0;
    let inFlightForOne = 0;
    let overlapped = false;
    let firstOfOneAnsweredAt = Infinity;
    receiver.respond = async (webhook) => {
      if (purchaseOf(webhook) !== purchase(1)) return { status: 204 };
      if (++inFlightForOne > 1) overlapped = true;
      if (sequenceOf(webhook) === 1) {
        await eventually(() => expect(sequences(purchase(2))).toEqual([1, 2]), { timeoutMs: 20_000, intervalMs: 10 }).catch(() => undefined);
        firstOfOneAnsweredAt = Date.now();
      }
      inFlightForOne--;
      return { status: 204 };
    };
    const recovered = await fetch(`${service.url}/endpoints/${ep.endpointId}/recover`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ since }),
    });
    expect(recovered.status).toBe(202);
    expect(await recovered.json()).toMatchObject({ resent: 4 });

    await eventually(() => expect(receiver.received).toHaveLength(4), { timeoutMs: 15_000 });
    expect(sequences(purchase(1))).toEqual([1, 2]);
    expect(sequences(purchase(2))).toEqual([1, 2]);
    expect(overlapped).toBe(false);
    // Purchase 2 was not held while purchase 1's first replay was answering slowly.
    const lastOfTwo = receiver.received.findIndex((w) => purchaseOf(w) === purchase(2) && sequenceOf(w) === 2);
    const secondOfOne = receiver.received.findIndex((w) => purchaseOf(w) === purchase(1) && sequenceOf(w) === 2);
    expect(lastOfTwo).toBeLessThan(secondOfOne);
    expect(receiver.received[secondOfOne]!.at).toBeGreaterThanOrEqual(firstOfOneAnsweredAt);
    expect(receiver.verificationFailures).toEqual([]);
  });
});
