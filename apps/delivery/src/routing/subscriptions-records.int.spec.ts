import { cloudEventSources, cloudEventTypes } from '@gancho/contracts';
import { messageIdFor } from '@gancho/delivery-domain';
import { type IncomingMessage } from '@gancho/messaging';
import { createTestDatabase, eventually, readBackCloudEvent, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { readDeliveryTopics, SubscriptionsStandIn, TestReceiver, startDelivery, testTopics } from '../testing/delivery-test-kit';

// The N-1 window on the subscriptions topics, with the real PostgreSQL, broker and HTTP receivers:
// records as release v0.1.0 (commit 0644c4b) published them — only gancho-event-id and
// gancho-event-type, no ce_ headers — are still read by today's consumers (delivery's routing
// table, partner-auth's key table) beside records in CloudEvents binary mode; and what delivery
// publishes about it on delivery.attempts.v1 is a CloudEvent the `cloudevents` SDK reads.
describe('records of the subscriptions topics from an older and a current producer', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  const receivers: TestReceiver[] = [];
  let attempts: IncomingMessage[] = [];
  let stopReaders: () => Promise<void>;

  beforeAll(async () => {
    database = await createTestDatabase('subscriptions_records');
    await subscriptions.createTopics();
    receivers.push(...(await Promise.all([new TestReceiver().start(), new TestReceiver().start()])));
    service = await startDelivery(
      database.url,
      topics,
      receivers.map((r) => r.host),
    );
    const readers = await readDeliveryTopics(subscriptions, topics);
    attempts = readers.attempts;
    stopReaders = readers.stop;
  });
  afterAll(async () => {
    await stopReaders?.();
    await service?.close();
    await subscriptions.close();
    await Promise.all(receivers.map((r) => r.stop()));
    await database?.drop();
  });

  it('routes to an endpoint and accepts a key published by v0.1.0, and delivers to both endpoints', async () => {
    const partner = uniqueName('ptn');
    const [older, current] = receivers as [TestReceiver, TestReceiver];
    const fromOlder = await subscriptions.putEndpoint({ partnerId: partner, url: older.url(), producer: 'v0.1.0' });
    older.secrets = fromOlder.secrets;
    const fromCurrent = await subscriptions.putEndpoint({ partnerId: partner, url: current.url() });
    current.secrets = fromCurrent.secrets;
    // The partner API answers for an endpoint once the routing table holds it, to a key the key table holds.
    const olderKey = await subscriptions.issueApiKey(partner, 'v0.1.0');
    await eventually(
      async () => {
        for (const { endpointId } of [fromOlder, fromCurrent]) {
          const response = await fetch(`${service.url}/endpoints/${endpointId}/stats`, { headers: { authorization: `Bearer ${olderKey}` } });
          expect({ endpointId, status: response.status }).toEqual({ endpointId, status: 200 });
        }
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );

    const { eventId } = await subscriptions.publishStatus(partner, 'waiting_payment');
    await eventually(() => {
      expect(older.ids()).toEqual([messageIdFor(eventId, fromOlder.endpointId)]);
      expect(current.ids()).toEqual([messageIdFor(eventId, fromCurrent.endpointId)]);
    });
    expect([...older.verificationFailures, ...current.verificationFailures]).toEqual([]);

    const expected = [messageIdFor(eventId, fromOlder.endpointId), messageIdFor(eventId, fromCurrent.endpointId)];
    await eventually(() => expect(attempts.filter((a) => expected.includes(String(a.key)))).toHaveLength(2));
    for (const record of attempts.filter((a) => expected.includes(String(a.key)))) {
      const event = readBackCloudEvent(record, { source: cloudEventSources.delivery, type: cloudEventTypes.deliveryAttempt });
      expect(event.data).toMatchObject({ message_id: record.key, partner_id: partner, outcome: 'succeeded' });
    }
  });
});
