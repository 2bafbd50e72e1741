import { messageIdFor } from '@gancho/delivery-domain';
import { createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { SubscriptionsStandIn, TestReceiver, startDelivery, testTopics, purchaseId, purchaseOf, sequenceOf } from './testing/delivery-test-kit';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (response: Promise<Response>): Promise<any> => (await response).json();
const purchase = purchaseId;

// Scenarios (ordering: "per_purchase"), on real PostgreSQL, Kafka and HTTP, with TWO delivery replicas:
// - one purchase's messages reach the endpoint strictly in sequence order; retries of one hold the later ones back;
// - other purchases on the same endpoint, and endpoints without the flag, are not held;
// - the log says which message waits behind which; skipping a message releases the next;
// - never two sends for one endpoint and purchase at once, even across replicas.
describe('ordered delivery per purchase', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let replicas: TestService[];
  let ordered: TestReceiver;
  let unordered: TestReceiver;
  let partner: string;
  let key: string;
  let orderedEndpoint: string;
  const inFlight = new Map<string, number>();
  let overlapping = 0;

  beforeAll(async () => {
    database = await createTestDatabase('delivery_ordering');
    await subscriptions.createTopics();
    ordered = await new TestReceiver().start();
    unordered = await new TestReceiver().start();
    const hosts = [ordered.host, unordered.host];
    const env = { RETRY_SCHEDULE: '0s,1s,1s,1s,1s', REQUEST_TIMEOUT_MS: '2000' };
    replicas = [await startDelivery(database.url, topics, hosts, env), await startDelivery(database.url, topics, hosts, env)];
    partner = uniqueName('ptn');
    key = await subscriptions.issueApiKey(partner);
    const epOrdered = await subscriptions.putEndpoint({ partnerId: partner, url: ordered.url(), eventTypes: ['purchase.*'], ordering: 'per_purchase' });
    const epUnordered = await subscriptions.putEndpoint({ partnerId: partner, url: unordered.url(), eventTypes: ['purchase.*'] });
    orderedEndpoint = epOrdered.endpointId;
    ordered.secrets = epOrdered.secrets;
    unordered.secrets = epUnordered.secrets;
    for (const replica of replicas) await subscriptions.routedBy(replica.url, partner, [epOrdered.endpointId, epUnordered.endpointId]);
  });
  afterAll(async () => {
    await Promise.all(replicas?.map((r) => r.close()) ?? []);
    await subscriptions.close();
    await ordered?.stop();
    await unordered?.stop();
    await database?.drop();
  });

  it('sends one purchase in sequence order, holding later messages behind retries, without holding others', async () => {
    // The receiver answers slowly (to expose any overlap) and fails purchase 1's second event twice.
    let failuresLeft = 2;
    ordered.respond = async (webhook) => {
      const p = purchaseOf(webhook);
      const n = (inFlight.get(p) ?? 0) + 1;
      inFlight.set(p, n);
      if (n > 1) overlapping++;
      await new Promise((resolve) => setTimeout(resolve, 30));
      inFlight.set(p, (inFlight.get(p) ?? 1) - 1);
      if (p === purchase(1) && sequenceOf(webhook) === 2 && failuresLeft-- > 0) return { status: 503, body: 'busy' };
      return { status: 200 };
    };
    const events: { purchaseId: string; sequence: number; eventId: string }[] = [];
    for (let sequence = 1; sequence <= 5; sequence++) {
      for (const p of [purchase(1), purchase(2)]) {
        const { eventId } = await subscriptions.publishStatus(partner, 'waiting_payment', { purchase_id: p, sequence });
        events.push({ purchaseId: p, sequence, eventId });
      }
    }

    // While purchase 1's #2 is being retried, #3 waits behind it; purchase 2 is not held.
    const held = messageIdFor(events.find((e) => e.purchaseId === purchase(1) && e.sequence === 3)!.eventId, orderedEndpoint);
    const blocker = messageIdFor(events.find((e) => e.purchaseId === purchase(1) && e.sequence === 2)!.eventId, orderedEndpoint);
    await eventually(async () => expect((await json(fetch(`${replicas[0]!.url}/messages/${held}`, { headers: { authorization: `Bearer ${key}` } }))).waiting_behind).toBe(blocker), { timeoutMs: 10_000, intervalMs: 50 });
    await eventually(() => expect(ordered.received.filter((w) => purchaseOf(w) === purchase(2))).toHaveLength(5), { timeoutMs: 10_000 });

    await eventually(() => expect(ordered.received.filter((w) => purchaseOf(w) === purchase(1))).toHaveLength(7), { timeoutMs: 15_000 });
    for (const p of [purchase(1), purchase(2)]) {
      const sequences = ordered.received.filter((w) => purchaseOf(w) === p).map(sequenceOf);
      // Retries repeat a sequence; nothing later ever comes before it.
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(new Set(sequences)).toEqual(new Set([1, 2, 3, 4, 5]));
    }
    expect(ordered.received.filter((w) => purchaseOf(w) === purchase(1)).map(sequenceOf)).toEqual([1, 2, 2, 2, 3, 4, 5]);
    expect(overlapping).toBe(0);
    expect(ordered.verificationFailures).toEqual([]);
    await eventually(() => expect(unordered.received).toHaveLength(10));
  });

  it('releases the next message when the partner skips the one in front', async () => {
    // The first is put off for an hour (503 + Retry-After), so no retry is in flight when the partner skips it:
    // a message being sent cannot be skipped (409), and with 1 s retries a busy machine is often sending it.
    ordered.respond = (webhook) => (purchaseOf(webhook) === purchase(3) && sequenceOf(webhook) === 1 ? { status: 503, headers: { 'retry-after': '3600' } } : { status: 200 });
    const first = await subscriptions.publishStatus(partner, 'analysis', { purchase_id: purchase(3), sequence: 1 });
    await subscriptions.publishStatus(partner, 'approved_by_provi', { purchase_id: purchase(3), sequence: 2 });
    const stuck = messageIdFor(first.eventId, orderedEndpoint);
    await eventually(async () => expect(await json(fetch(`${replicas[0]!.url}/messages/${stuck}`, { headers: { authorization: `Bearer ${key}` } }))).toMatchObject({ status: 'pending', attempt_count: 1 }));
    expect(ordered.received.filter((w) => purchaseOf(w) === purchase(3) && sequenceOf(w) === 2)).toHaveLength(0);

    const skip = await fetch(`${replicas[1]!.url}/messages/${stuck}/skip`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect(skip.status).toBe(200);
    await eventually(() => expect(ordered.received.filter((w) => purchaseOf(w) === purchase(3) && sequenceOf(w) === 2)).toHaveLength(1), { timeoutMs: 5000 });
    expect((await json(fetch(`${replicas[0]!.url}/messages/${stuck}`, { headers: { authorization: `Bearer ${key}` } }))).status).toBe('skipped');
  });
});
