import { topicContract, Topics } from '@gancho/contracts';
import { topicRecordValidator } from '@gancho/service-kit';
import { createTestDatabase, eventually, topicConfigOnBroker, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { readDeliveryTopics, SubscriptionsStandIn, TestReceiver, startDelivery, testTopics } from '../testing/delivery-test-kit';

// The producer side of delivery.attempts.v1 and delivery.endpoint-health.v1
// (libs/contracts topic-contracts.ts): the real delivery service, on
// PostgreSQL, Kafka and real HTTP receivers, publishes attempts (a success, a
// retry, a 410) and a health report whose key, CloudEvents headers and value
// validate against the registry, on topics created with its retention.
describe('delivery topics contract (producer)', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  let healthy: TestReceiver;
  let flaky: TestReceiver;
  let gone: TestReceiver;
  let readers: Awaited<ReturnType<typeof readDeliveryTopics>>;

  beforeAll(async () => {
    database = await createTestDatabase('delivery_contract');
    [healthy, flaky, gone] = await Promise.all([new TestReceiver().start(), new TestReceiver().start(), new TestReceiver().start()]);
    // Created by the service itself, as in production (the stand-in's topics are the subscriptions ones).
    service = await startDelivery(database.url, topics, [healthy.host, flaky.host, gone.host], { RETRY_SCHEDULE: '0s,1s,1s' });
    readers = await readDeliveryTopics(subscriptions, topics);
  });
  afterAll(async () => {
    await readers?.stop();
    await service?.close();
    await subscriptions.close();
    await Promise.all([healthy, flaky, gone].map((r) => r?.stop()));
    await database?.drop();
  });

  it('publishes attempts and health reports that validate against the registry', async () => {
    const partnerId = uniqueName('ptn');
    let flakyCalls = 0;
    flaky.respond = () => (++flakyCalls === 1 ? { status: 503 } : { status: 200 });
    gone.respond = () => ({ status: 410 });
    const endpoints = await Promise.all([healthy, flaky, gone].map((receiver) => subscriptions.putEndpoint({ partnerId, url: receiver.url() })));
    [healthy, flaky, gone].forEach((receiver, i) => (receiver.secrets = endpoints[i]!.secrets));
    await subscriptions.routedBy(
      service.url,
      partnerId,
      endpoints.map((e) => e.endpointId),
    );
    await subscriptions.publishStatus(partnerId, 'waiting_payment');

    // healthy: succeeded; flaky: scheduled then succeeded; gone: endpoint_disabled, and a report.
    await eventually(() => expect({ attempts: readers.attempts.length, reports: readers.healthReports.length }).toEqual({ attempts: 4, reports: 1 }), { timeoutMs: 30_000 });
    const validator = topicRecordValidator();
    for (const record of readers.attempts) expect(validator.recordProblems(Topics.deliveryAttempts, record)).toEqual([]);
    for (const record of readers.healthReports) expect(validator.recordProblems(Topics.endpointHealth, record)).toEqual([]);
    expect(readers.attempts.map((r) => JSON.parse(r.value.toString()).outcome).sort()).toEqual(['endpoint_disabled', 'scheduled', 'succeeded', 'succeeded']);
  });

  it('creates both topics with the retention of the registry', async () => {
    for (const [topic, contract] of [
      [topics.DELIVERY_ATTEMPTS_TOPIC, Topics.deliveryAttempts],
      [topics.ENDPOINT_HEALTH_TOPIC, Topics.endpointHealth],
    ] as const) {
      const config = await topicConfigOnBroker(topic);
      expect({ contract, policy: config['cleanup.policy'], retention: config['retention.ms'] }).toEqual({
        contract,
        policy: 'delete',
        retention: String(topicContract(contract).retention.retentionMs),
      });
    }
  });
});
