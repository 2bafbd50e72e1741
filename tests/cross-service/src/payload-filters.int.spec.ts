import { createServiceApp } from '@gancho/service-kit';
import { createTestDatabase, eventually, startTestService, type TestDatabase, type TestService } from '@gancho/testing';
import { subscriptionsOpenApi } from '../../../apps/subscriptions/src/openapi';
import { startSubscriptionsConsumers, SubscriptionsModule } from '../../../apps/subscriptions/src/subscriptions.module';
import { adminToken, subscriptionsClient, testEncryptionKey } from '../../../apps/subscriptions/src/testing/subscriptions-test-app';
import { DeliveryModule } from '../../../apps/delivery/src/delivery.module';
import { deliveryOpenApi } from '../../../apps/delivery/src/openapi';
import { EndpointDirectory } from '../../../apps/delivery/src/routing/endpoint-directory';
import { deliveryEnv, purchaseId, SubscriptionsStandIn, TestReceiver, testTopics, type ReceivedWebhook } from '../../../apps/delivery/src/testing/delivery-test-kit';

// Scenarios (issue 22, item 1), on real PostgreSQL and Kafka, with receivers on loopback: a partner saves
// endpoints with payload filters through the subscriptions API, and delivery routes each status event only to
// the endpoints whose filter matches its data.
// - refused at save time with 422 INVALID_PAYLOAD_FILTER, each problem with its path and reason: a path no
//   subscribed type has, an unknown operator, a value of the wrong type, a phase no subscribed type has; a
//   PATCH of event_types that leaves the filter's fields behind is refused the same way;
// - one course; a price above a bound in one phase; an $or of two courses with a $not; no filter: each
//   receiver gets exactly the matching events of the same mixed stream (each in per_purchase order, so the
//   last event arriving means every earlier one was routed or not);
// - the filter is shown by GET and in the audit trail; PATCH payload_filter: null delivers everything again.
describe('payload filters: saved by subscriptions, evaluated by delivery', () => {
  const topics = testTopics();
  const kafkaTopics = new SubscriptionsStandIn(topics);
  const receivers = { course: new TestReceiver(), pricey: new TestReceiver(), either: new TestReceiver(), all: new TestReceiver() };
  let database: TestDatabase;
  let subscriptions: TestService;
  let delivery: TestService;
  let partnerId: string;
  let key: string;
  let partner: ReturnType<ReturnType<typeof subscriptionsClient>['as']>;

  beforeAll(async () => {
    database = await createTestDatabase('payload_filters');
    await Promise.all(Object.values(receivers).map((r) => r.start()));
    await kafkaTopics.createTopics();
    subscriptions = await startTestService(() => createServiceApp(SubscriptionsModule.register(), { logger: ['error', 'warn'], openApi: subscriptionsOpenApi }), {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '',
      SUBSCRIPTIONS_ADMIN_TOKENS: adminToken,
      SECRETS_ENCRYPTION_KEY: testEncryptionKey,
      ALLOW_HTTP_ENDPOINTS: 'true',
      ALLOW_PRIVATE_NETWORK_ENDPOINTS: 'true',
      ENDPOINTS_TOPIC: topics.ENDPOINTS_TOPIC,
      API_KEYS_TOPIC: topics.API_KEYS_TOPIC,
      ENDPOINT_HEALTH_TOPIC: topics.ENDPOINT_HEALTH_TOPIC,
      ENDPOINT_HEALTH_CONSUMER_GROUP: `${topics.STATUS_CONSUMER_GROUP}.health`,
    });
    await startSubscriptionsConsumers(subscriptions.app);
    delivery = await startTestService(
      () => createServiceApp(DeliveryModule.register(), { logger: ['error', 'warn'], openApi: deliveryOpenApi }),
      deliveryEnv(
        database.url,
        topics,
        Object.values(receivers).map((r) => r.host),
        { SECRETS_ENCRYPTION_KEY: testEncryptionKey },
      ),
    );
    const api = subscriptionsClient(subscriptions.url);
    ({ partnerId, key } = await api.newPartner('Escola Azul'));
    partner = api.as(key);
    await eventually(async () => expect((await partner('GET', '/endpoints')).status).toBe(200));
  });
  afterAll(async () => {
    await delivery?.close();
    await subscriptions?.close();
    await kafkaTopics.close();
    await Promise.all(Object.values(receivers).map((r) => r.stop()));
    await database?.drop();
  });

  it('refuses filters that do not fit the subscribed event types, naming each problem', async () => {
    const refused = await partner('POST', '/endpoints', {
      url: receivers.all.url(),
      event_types: ['purchase.paid', 'purchase.made_effective'],
      payload_filter: { 'course.price': { $gt: 100 }, 'course.id': { $regex: 'crs' }, 'course.price_cents': 'cheap', $or: [{ phase: 'open' }, { phase: 'won' }] },
    });
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body.code).toBe('INVALID_PAYLOAD_FILTER');
    // Shape problems first: the unknown operator is reported without a schema check.
    expect(refused.body.errors).toEqual([{ path: 'payload_filter.course.id.$regex', reason: 'unknown_operator', message: expect.any(String) }]);

    const mistyped = await partner('POST', '/endpoints', {
      url: receivers.all.url(),
      event_types: ['purchase.paid', 'purchase.made_effective'],
      payload_filter: { 'course.price': { $gt: 100 }, 'course.price_cents': 'cheap', $or: [{ phase: 'open' }, { phase: 'won' }] },
    });
    expect(mistyped.status).toBe(422);
    expect(mistyped.body.errors.map((e: { path: string; reason: string }) => `${e.path} ${e.reason}`)).toEqual([
      'payload_filter.course.price.$gt unknown_field',
      'payload_filter.course.price_cents type_mismatch',
      'payload_filter.$or[0].phase never_matches',
    ]);

    const saved = await partner('POST', '/endpoints', { url: receivers.all.url(), event_types: ['purchase.paid'], payload_filter: { status: 'paid' } });
    expect(saved.status).toBe(201);
    // The filter's field must stay among the fields of the types subscribed to: "won" is no phase of purchase.paid.
    expect((await partner('PATCH', `/endpoints/${saved.body.id}`, { payload_filter: { phase: 'won' } })).body.code).toBe('INVALID_PAYLOAD_FILTER');
    const moved = await partner('PATCH', `/endpoints/${saved.body.id}`, { event_types: ['purchase.shopping_cart_created'] });
    expect(moved.status).toBe(422);
    expect(moved.body.errors).toEqual([{ path: 'payload_filter.status', reason: 'never_matches', message: expect.stringContaining('"shopping_cart_created"') }]);
    expect((await partner('DELETE', `/endpoints/${saved.body.id}`)).status).toBe(204);
  });

  it('delivers to each endpoint exactly the events its filter matches', async () => {
    const create = async (receiver: TestReceiver, payloadFilter: unknown) => {
      const created = await partner('POST', '/endpoints', { url: receiver.url(), event_types: ['purchase.*'], ordering: 'per_purchase', payload_filter: payloadFilter });
      expect(created.status).toBe(201);
      receiver.secrets = [(await partner('GET', `/endpoints/${created.body.id}/secret`)).body.current.secret];
      return created.body as { id: string; payload_filter: unknown };
    };
    const course = await create(receivers.course, { 'course.id': 'crs_data_science' });
    const pricey = await create(receivers.pricey, { 'course.price_cents': { $gte: 1000000 }, phase: 'won' });
    const either = await create(receivers.either, { $or: [{ 'course.id': 'crs_design' }, { 'course.id': 'crs_data_science' }], $not: { status: 'logged' } });
    const all = await create(receivers.all, null);
    expect(course.payload_filter).toEqual({ 'course.id': 'crs_data_science' });
    expect(all.payload_filter).toBeNull();
    expect((await partner('GET', `/endpoints/${pricey.id}`)).body.payload_filter).toEqual({ 'course.price_cents': { $gte: 1000000 }, phase: 'won' });
    const audit = (await partner('GET', `/endpoints/${either.id}/audit`)).body.items;
    expect(audit[0].changes.payload_filter).toEqual({ $or: [{ 'course.id': 'crs_design' }, { 'course.id': 'crs_data_science' }], $not: { status: 'logged' } });
    await kafkaTopics.routedBy(delivery.url, partnerId, [course.id, pricey.id, either.id, all.id]);

    const dataScience = { id: 'crs_data_science', name: 'Ciência de Dados', price_cents: 1234500, currency: 'BRL' };
    const design = { id: 'crs_design', name: 'Design', price_cents: 450000, currency: 'BRL' };
    const purchase = purchaseId(22);
    // One purchase, in order: [status, course]; the last matches every filter.
    const stream = [
      ['logged', dataScience],
      ['shopping_cart_created', design],
      ['waiting_payment', dataScience],
      ['made_effective', design],
      ['approved', dataScience],
      ['made_effective', dataScience],
    ] as const;
    for (const [i, [status, c]] of stream.entries()) {
      await kafkaTopics.publishStatus(partnerId, status, { purchase_id: purchase, sequence: i + 1, course: c, previous_status: null });
    }
    const seen = (r: TestReceiver) => r.received.map((w: ReceivedWebhook) => (JSON.parse(w.body) as { data: { sequence: number } }).data.sequence);
    // per_purchase: the last event (sequence 6) arrives after every earlier one was delivered or never routed.
    await eventually(
      () => {
        for (const r of Object.values(receivers)) expect(seen(r)).toContain(6);
      },
      { timeoutMs: 30_000 },
    );
    expect(seen(receivers.all)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen(receivers.course)).toEqual([1, 3, 5, 6]);
    expect(seen(receivers.pricey)).toEqual([6]);
    expect(seen(receivers.either)).toEqual([2, 3, 4, 5, 6]);
    for (const r of Object.values(receivers)) expect(r.verificationFailures).toEqual([]);

    // Removing the filter: everything again.
    const cleared = await partner('PATCH', `/endpoints/${pricey.id}`, { payload_filter: null });
    expect(cleared.body.payload_filter).toBeNull();
    await eventually(() => expect(delivery.app.get(EndpointDirectory).get(pricey.id)?.matches).toBeUndefined(), { timeoutMs: 30_000, intervalMs: 20 });
    await kafkaTopics.publishStatus(partnerId, 'logged', { purchase_id: purchaseId(23), sequence: 1, course: design, previous_status: null });
    await eventually(() => expect(receivers.pricey.received.map((w) => (JSON.parse(w.body) as { data: { purchase_id: string } }).data.purchase_id)).toContain(purchaseId(23)), { timeoutMs: 30_000 });
  });
});
