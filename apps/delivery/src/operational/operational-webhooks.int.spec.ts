import { randomUUID } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { verifyWebhook } from '@gancho/webhooks';
import { cloudEventSources, operationalSchemaId, operationalWebhookSchema, toCloudEventsRecord, type OperationalEventDataOf, type OperationalEventType } from '@gancho/contracts';
import { messageIdFor } from '@gancho/delivery-domain';
import { createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { SubscriptionsStandIn, TestReceiver, startDelivery, testTopics, type ReceivedWebhook } from '../testing/delivery-test-kit';

// Scenarios, with the real PostgreSQL, the real broker and real HTTP receivers on loopback; every operational webhook
// is verified with the receiver SDK (@gancho/webhooks) against the receiving endpoint's secret and validated against
// its JSON Schema:
// - endpoint.disabled / endpoint.enabled, as subscriptions publishes them, reach the partner's endpoints whose filter
//   names them, never the endpoint they are about, nor endpoints of `*`, nor another partner's; a record read twice is
//   sent once; a record this release cannot read sends nothing and the next one still goes out;
// - message.exhausted: a message whose retries are used up is announced to the operational endpoint (not to the
//   endpoint that failed, though it subscribes too), once;
// - endpoint.recovered: a success after ENDPOINT_RECOVERED_AFTER_FAILURES failures in a row is announced, once;
// - endpoint.secret_rotation_ending is sent hours_remaining before the previous secret expires, not at once.
describe('operational webhooks', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  let pool: TestReceiver[];
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);

  beforeAll(async () => {
    database = await createTestDatabase('delivery_operational');
    await subscriptions.createTopics();
    pool = await Promise.all(Array.from({ length: 8 }, () => new TestReceiver().start()));
    service = await startDelivery(
      database.url,
      topics,
      pool.map((r) => r.host),
      { RETRY_SCHEDULE: '0s,1s', ENDPOINT_RECOVERED_AFTER_FAILURES: '3' },
    );
  });
  afterAll(async () => {
    await service?.close();
    await subscriptions.close();
    await Promise.all((pool ?? []).map((r) => r.stop()));
    await database?.drop();
  });

  /** The operational webhooks a receiver got, each verified with the SDK and checked against its type's schema. */
  function operationalOf(receiver: TestReceiver, type: OperationalEventType): { id: string; data: Record<string, unknown>; at: number }[] {
    return receiver.received
      .filter((w) => (JSON.parse(w.body) as { type: string }).type === type)
      .map((w: ReceivedWebhook) => {
        const { id, event } = verifyWebhook(w.body, w.headers as Record<string, string>, { secret: receiver.secrets });
        const validate = ajv.getSchema(operationalSchemaId(type)) ?? ajv.compile(operationalWebhookSchema(type));
        expect({ id, valid: validate(event), errors: validate.errors ?? null }).toEqual({ id, valid: true, errors: null });
        return { id, data: (event as unknown as { data: Record<string, unknown> }).data, at: w.at };
      });
  }

  const publishOperational = async <T extends 'endpoint.disabled' | 'endpoint.enabled' | 'endpoint.secret_rotation_ending'>(type: T, data: OperationalEventDataOf[T], eventId = randomUUID()) => {
    await subscriptions.transport.publish(topics.OPERATIONAL_EVENTS_TOPIC, [toCloudEventsRecord({ id: eventId, type, source: cloudEventSources.subscriptions, time: new Date(), subject: data.endpoint_id, data })]);
    return eventId;
  };

  it('sends endpoint.disabled and endpoint.enabled to the endpoints that ask for them, never to the endpoint they are about, once each', async () => {
    const [ops, troubled, everything, otherPartners] = pool.slice(0, 4) as [TestReceiver, TestReceiver, TestReceiver, TestReceiver];
    const partner = uniqueName('ptn');
    const other = uniqueName('ptn');
    const opsEp = await subscriptions.putEndpoint({ partnerId: partner, url: ops.url(), eventTypes: ['endpoint.*'] });
    // The troubled endpoint asks for operational events too: it still gets none about itself.
    const troubledEp = await subscriptions.putEndpoint({ partnerId: partner, url: troubled.url(), eventTypes: ['purchase.*', 'endpoint.disabled', 'endpoint.enabled'] });
    const everythingEp = await subscriptions.putEndpoint({ partnerId: partner, url: everything.url(), eventTypes: ['*'] });
    const otherEp = await subscriptions.putEndpoint({ partnerId: other, url: otherPartners.url(), eventTypes: ['endpoint.*'] });
    for (const [receiver, endpoint] of [
      [ops, opsEp],
      [troubled, troubledEp],
      [everything, everythingEp],
      [otherPartners, otherEp],
    ] as const)
      receiver.secrets = endpoint.secrets;
    await subscriptions.routedBy(service.url, partner, [opsEp.endpointId, troubledEp.endpointId, everythingEp.endpointId]);
    await subscriptions.routedBy(service.url, other, [otherEp.endpointId]);

    const about = { partner_id: partner, endpoint_id: troubledEp.endpointId, endpoint_url: troubled.url() };
    const disabled: OperationalEventDataOf['endpoint.disabled'] = { ...about, reason: 'gone', detail: `410 Gone from ${troubled.url()}`, disabled_at: new Date().toISOString() };
    const disabledId = await publishOperational('endpoint.disabled', disabled);
    // The same record again (a relay republishing after a crash): the same message, sent once.
    await publishOperational('endpoint.disabled', disabled, disabledId);
    // A record this release cannot read (a field it does not know): nothing is sent for it, and the consumer goes on.
    await subscriptions.transport.publish(topics.OPERATIONAL_EVENTS_TOPIC, [
      toCloudEventsRecord({
        id: randomUUID(),
        type: 'endpoint.enabled',
        source: cloudEventSources.subscriptions,
        time: new Date(),
        subject: about.endpoint_id,
        data: { ...about, enabled_at: new Date().toISOString(), future: 1 },
      }),
    ]);
    const enabled = { ...about, enabled_at: new Date().toISOString() };
    const enabledId = await publishOperational('endpoint.enabled', enabled);

    await eventually(() => expect(operationalOf(ops, 'endpoint.enabled')).toHaveLength(1));
    const got = operationalOf(ops, 'endpoint.disabled');
    expect(got).toEqual([{ id: messageIdFor(disabledId, opsEp.endpointId), data: disabled, at: expect.any(Number) }]);
    expect(operationalOf(ops, 'endpoint.enabled')).toEqual([{ id: messageIdFor(enabledId, opsEp.endpointId), data: enabled, at: expect.any(Number) }]);
    // The enabled record came after the others on the same partition (one key): by then they had been handled.
    expect(ops.received).toHaveLength(2);
    expect(ops.verificationFailures).toEqual([]);
    expect(troubled.received).toEqual([]);
    expect(everything.received).toEqual([]);
    expect(otherPartners.received).toEqual([]);
  });

  it('announces a message whose retries are used up (message.exhausted) to the operational endpoint, not to the endpoint that failed', async () => {
    const [ops, failing] = pool.slice(4, 6) as [TestReceiver, TestReceiver];
    const partner = uniqueName('ptn');
    const opsEp = await subscriptions.putEndpoint({ partnerId: partner, url: ops.url(), eventTypes: ['message.*'] });
    const failingEp = await subscriptions.putEndpoint({ partnerId: partner, url: failing.url(), eventTypes: ['purchase.*', 'message.exhausted'] });
    ops.secrets = opsEp.secrets;
    failing.secrets = failingEp.secrets;
    failing.respond = () => ({ status: 500, body: 'down' });
    await subscriptions.routedBy(service.url, partner, [opsEp.endpointId, failingEp.endpointId]);

    const { eventId } = await subscriptions.publishStatus(partner, 'waiting_payment');
    const messageId = messageIdFor(eventId, failingEp.endpointId);
    await eventually(() => expect(operationalOf(ops, 'message.exhausted')).toHaveLength(1), { timeoutMs: 30_000 });
    expect(operationalOf(ops, 'message.exhausted')[0]!.data).toEqual({
      partner_id: partner,
      endpoint_id: failingEp.endpointId,
      endpoint_url: failing.url(),
      message_id: messageId,
      event_type: 'purchase.waiting_payment',
      attempts: 2,
      last_status_code: 500,
      last_error: null,
      exhausted_at: expect.any(String),
    });
    // Its two attempts, and nothing about itself.
    expect(failing.received.map((w) => (JSON.parse(w.body) as { type: string }).type)).toEqual(['purchase.waiting_payment', 'purchase.waiting_payment']);
    expect(ops.verificationFailures).toEqual([]);
  });

  it('announces endpoint.recovered once when an endpoint succeeds after failing three attempts in a row', async () => {
    const [ops, flaky] = pool.slice(6, 8) as [TestReceiver, TestReceiver];
    const partner = uniqueName('ptn');
    const opsEp = await subscriptions.putEndpoint({ partnerId: partner, url: ops.url(), eventTypes: ['endpoint.recovered'] });
    const flakyEp = await subscriptions.putEndpoint({ partnerId: partner, url: flaky.url(), eventTypes: ['purchase.*'] });
    ops.secrets = opsEp.secrets;
    flaky.secrets = flakyEp.secrets;
    flaky.respond = () => ({ status: 503 });
    await subscriptions.routedBy(service.url, partner, [opsEp.endpointId, flakyEp.endpointId]);

    await subscriptions.publishStatus(partner, 'shopping_cart_created');
    await subscriptions.publishStatus(partner, 'basic_info_review');
    await eventually(() => expect(flaky.received.length).toBeGreaterThanOrEqual(4), { timeoutMs: 30_000 });
    expect(ops.received).toEqual([]);
    flaky.respond = () => ({ status: 204 });
    await subscriptions.publishStatus(partner, 'document_info_incomplete');
    await eventually(() => expect(operationalOf(ops, 'endpoint.recovered')).toHaveLength(1), { timeoutMs: 30_000 });
    const [recovered] = operationalOf(ops, 'endpoint.recovered');
    expect(recovered!.data).toEqual({
      partner_id: partner,
      endpoint_id: flakyEp.endpointId,
      endpoint_url: flaky.url(),
      failing_since: expect.any(String),
      failed_attempts: expect.any(Number),
      recovered_at: expect.any(String),
    });
    // Four failed attempts (two messages, two attempts each); the last may share its settle with the success.
    expect(recovered!.data['failed_attempts']).toBeGreaterThanOrEqual(3);
    expect(Date.parse(recovered!.data['failing_since'] as string)).toBeLessThan(Date.parse(recovered!.data['recovered_at'] as string));
    // Further successes are no news.
    await subscriptions.publishStatus(partner, 'document_info_review');
    await eventually(() => expect(flaky.received.filter((w) => w.body.includes('"document_info_review"'))).toHaveLength(1));
    await subscriptions.publishStatus(partner, 'analysis');
    await eventually(() => expect(flaky.received.filter((w) => w.body.includes('"purchase.analysis"'))).toHaveLength(1));
    expect(operationalOf(ops, 'endpoint.recovered')).toHaveLength(1);
  });

  it('sends endpoint.secret_rotation_ending hours_remaining before the previous secret expires', async () => {
    const [ops, rotating] = pool.slice(0, 2) as [TestReceiver, TestReceiver];
    const partner = uniqueName('ptn');
    const opsEp = await subscriptions.putEndpoint({ partnerId: partner, url: ops.url(), eventTypes: ['endpoint.secret_rotation_ending'] });
    const rotatingEp = await subscriptions.putEndpoint({ partnerId: partner, url: rotating.url(), eventTypes: ['purchase.*', 'endpoint.*'] });
    ops.secrets = opsEp.secrets;
    rotating.secrets = rotatingEp.secrets;
    await subscriptions.routedBy(service.url, partner, [opsEp.endpointId, rotatingEp.endpointId]);
    const before = ops.received.length;

    // The previous secret expires in 4 s; the notice is due 1 s (1/3600 h) before that.
    const rotatedAt = Date.now();
    const data: OperationalEventDataOf['endpoint.secret_rotation_ending'] = {
      partner_id: partner,
      endpoint_id: rotatingEp.endpointId,
      endpoint_url: rotating.url(),
      rotated_at: new Date(rotatedAt).toISOString(),
      previous_secret_expires_at: new Date(rotatedAt + 4000).toISOString(),
      hours_remaining: 1 / 3600,
    };
    await publishOperational('endpoint.secret_rotation_ending', data);
    await eventually(() => expect(operationalOf(ops, 'endpoint.secret_rotation_ending')).toHaveLength(1), { timeoutMs: 30_000 });
    const [notice] = operationalOf(ops, 'endpoint.secret_rotation_ending');
    expect(notice!.data).toEqual(data);
    expect(notice!.at).toBeGreaterThanOrEqual(rotatedAt + 3000);
    expect(ops.received.length - before).toBe(1);
    expect(rotating.received).toEqual([]);
  });
});
