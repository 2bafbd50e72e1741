import { randomUUID } from 'node:crypto';
import { Topics } from '@gancho/contracts';
import { createServiceApp } from '@gancho/service-kit';
import { createTestDatabase, eventually, startTestService, type TestDatabase, type TestService } from '@gancho/testing';
import { verifyWebhook } from '@gancho/webhooks';
// Subscriptions and delivery in one process, as their own tests start them.
import { subscriptionsOpenApi } from '../../../apps/subscriptions/src/openapi';
import { startSubscriptionsConsumers, SubscriptionsModule } from '../../../apps/subscriptions/src/subscriptions.module';
import { adminToken, subscriptionsClient, testEncryptionKey } from '../../../apps/subscriptions/src/testing/subscriptions-test-app';
import { DeliveryModule } from '../../../apps/delivery/src/delivery.module';
import { deliveryOpenApi } from '../../../apps/delivery/src/openapi';
import { deliveryEnv, SubscriptionsStandIn, TestReceiver, testTopics } from '../../../apps/delivery/src/testing/delivery-test-kit';

// Scenario (issue 22, item 3), on real PostgreSQL and Kafka with real receivers on loopback: a partner points one
// endpoint ("ops") at its operations team with event_types ["endpoint.*", "message.*"], beside its enrollment
// endpoint, which asks for purchase.* and endpoint.* too. The enrollment receiver answers 410 Gone: delivery reports
// it, subscriptions disables it, and ops receives endpoint.disabled (reason gone), signed with the ops endpoint's
// secret (verified with the receiver SDK). The partner re-enables it (endpoint.enabled) and rotates its secret
// (endpoint.secret_rotation_ending). The enrollment endpoint never gets an event about itself.
describe('operational webhooks across subscriptions and delivery', () => {
  const topics = testTopics();
  const kafkaTopics = new SubscriptionsStandIn(topics);
  const ops = new TestReceiver();
  const enrollment = new TestReceiver();
  let database: TestDatabase;
  let subscriptions: TestService;
  let delivery: TestService;

  beforeAll(async () => {
    database = await createTestDatabase('operational_e2e');
    await Promise.all([ops.start(), enrollment.start(), kafkaTopics.createTopics()]);
    subscriptions = await startTestService(() => createServiceApp(SubscriptionsModule.register(), { logger: ['error'], openApi: subscriptionsOpenApi }), {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '',
      SUBSCRIPTIONS_ADMIN_TOKENS: adminToken,
      SECRETS_ENCRYPTION_KEY: testEncryptionKey,
      ALLOW_HTTP_ENDPOINTS: 'true',
      ALLOW_PRIVATE_NETWORK_ENDPOINTS: 'true',
      ENDPOINTS_TOPIC: topics.ENDPOINTS_TOPIC,
      API_KEYS_TOPIC: topics.API_KEYS_TOPIC,
      OPERATIONAL_EVENTS_TOPIC: topics.OPERATIONAL_EVENTS_TOPIC,
      ENDPOINT_HEALTH_CONSUMER_GROUP: `${topics.STATUS_CONSUMER_GROUP}.health`,
      // The notice covers the whole overlap: it is due at the rotation.
      SECRET_ROTATION_OVERLAP_MS: '7200000',
      SECRET_ROTATION_NOTICE_MS: '86400000',
    });
    await startSubscriptionsConsumers(subscriptions.app);
    delivery = await startTestService(
      () => createServiceApp(DeliveryModule.register(), { logger: ['error'], openApi: deliveryOpenApi }),
      // Subscriptions applies health reports from the contract's topic.
      deliveryEnv(database.url, topics, [ops.host, enrollment.host], { SECRETS_ENCRYPTION_KEY: testEncryptionKey, ENDPOINT_HEALTH_TOPIC: Topics.endpointHealth }),
    );
  });
  afterAll(async () => {
    await delivery?.close();
    await subscriptions?.close();
    await kafkaTopics.close();
    await Promise.all([ops.stop(), enrollment.stop()]);
    await database?.drop();
  });

  it('tells the ops endpoint, and only it, that the enrollment endpoint was disabled, enabled and rotated', async () => {
    const api = subscriptionsClient(subscriptions.url);
    const { partnerId, key } = await api.newPartner('Escola Azul');
    const partner = api.as(key);
    await eventually(async () => expect((await partner('GET', '/endpoints')).status).toBe(200));
    const opsEp = (await partner('POST', '/endpoints', { url: ops.url(), description: 'Operations team', event_types: ['endpoint.*', 'message.*'] })).body;
    const enrollmentEp = (await partner('POST', '/endpoints', { url: enrollment.url(), description: 'Enrollment', event_types: ['purchase.*', 'endpoint.*'] })).body;
    const opsSecret: string = (await partner('GET', `/endpoints/${opsEp.id}/secret`)).body.current.secret;
    ops.secrets = [opsSecret];
    enrollment.secrets = [(await partner('GET', `/endpoints/${enrollmentEp.id}/secret`)).body.current.secret];
    enrollment.respond = () => ({ status: 410, body: 'gone' });
    await kafkaTopics.routedBy(delivery.url, partnerId, [opsEp.id, enrollmentEp.id]);

    await kafkaTopics.publishStatus(partnerId, 'made_effective', {}, randomUUID());
    const events = () => ops.received.map((w) => verifyWebhook(w.body, w.headers as Record<string, string>, { secret: opsSecret }).event as unknown as { type: string; data: Record<string, unknown> });
    await eventually(() => expect(events().map((e) => e.type)).toEqual(['endpoint.disabled']), { timeoutMs: 30_000 });
    expect(events()[0]!.data).toMatchObject({ partner_id: partnerId, endpoint_id: enrollmentEp.id, endpoint_url: enrollment.url(), reason: 'gone' });
    expect((await partner('GET', `/endpoints/${enrollmentEp.id}`)).body).toMatchObject({ enabled: false, disabled_reason: 'gone' });

    enrollment.respond = () => ({ status: 204 });
    expect((await partner('PATCH', `/endpoints/${enrollmentEp.id}`, { enabled: true })).status).toBe(200);
    const rotated = (await partner('POST', `/endpoints/${enrollmentEp.id}/secret/rotate`)).body;
    await eventually(() => expect(events().map((e) => e.type)).toEqual(['endpoint.disabled', 'endpoint.enabled', 'endpoint.secret_rotation_ending']), { timeoutMs: 30_000 });
    expect(events()[2]!.data).toMatchObject({ endpoint_id: enrollmentEp.id, previous_secret_expires_at: rotated.previous_valid_until, hours_remaining: 2 });

    expect(ops.verificationFailures).toEqual([]);
    // The enrollment endpoint got its one purchase event (answered 410) and nothing about itself.
    expect(enrollment.received.map((w) => (JSON.parse(w.body) as { type: string }).type)).toEqual(['purchase.made_effective']);
  });
});
