import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readCloudEventAttributes, topicContract, Topics, type EndpointHealthReportV1 } from '@gancho/contracts';
import { KafkaTransport, type IncomingMessage } from '@gancho/messaging';
import { createTestDatabase, eventually, kafkaBrokers, type TestDatabase, type TestService } from '@gancho/testing';
import { recordTopics, startSubscriptions, subscriptionsClient, testTopics } from '../testing/subscriptions-test-app';

// Scenarios, on real PostgreSQL and Kafka:
// - an endpoint disabled by its partner, re-enabled, and disabled on delivery's health report (410) each publish one
//   record on subscriptions.operational-events.v1 (endpoint.disabled with its reason, endpoint.enabled), keyed by the
//   endpoint, its data valid against the topic contract;
// - a rotation publishes endpoint.secret_rotation_ending with the previous secret's expiry and the hours left at the
//   notice (the configured notice, or the whole overlap when shorter);
// - other changes (create, update, delete) publish nothing there; operational types are accepted in event_types,
//   unknown ones refused with 400.
describe('operational events from subscriptions', () => {
  let database: TestDatabase;
  let service: TestService;
  let recorder: Awaited<ReturnType<typeof recordTopics>>;
  let partner: ReturnType<ReturnType<typeof subscriptionsClient>['as']>;
  let partnerId: string;
  const topics = testTopics();
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'subscriptions-test-operational' });
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  const validValue = ajv.compile(topicContract(Topics.operationalEvents).valueSchema);
  const validHeaders = ajv.compile(topicContract(Topics.operationalEvents).headers);

  const recordsOf = (endpointId: string): IncomingMessage[] => recorder.messages.filter((m) => m.key === endpointId);
  const typesOf = (endpointId: string): string[] => recordsOf(endpointId).map((m) => readCloudEventAttributes(m).type ?? '?');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const dataOf = (m: IncomingMessage): any => JSON.parse(m.value.toString());

  beforeAll(async () => {
    database = await createTestDatabase('subscriptions_operational');
    // An hour's overlap, a notice half an hour before its end.
    service = await startSubscriptions(database.url, { env: { ...topics, SECRET_ROTATION_OVERLAP_MS: '3600000', SECRET_ROTATION_NOTICE_MS: '1800000' } });
    recorder = await recordTopics([topics.OPERATIONAL_EVENTS_TOPIC as string]);
    const api = subscriptionsClient(service.url);
    const created = await api.newPartner('Escola Azul');
    partnerId = created.partnerId;
    partner = api.as(created.key);
    await eventually(async () => expect((await partner('GET', '/endpoints')).status).toBe(200));
  });
  afterAll(async () => {
    await recorder?.stop();
    await transport.close();
    await service?.close();
    await database?.drop();
  });

  it('accepts operational types in event_types and refuses unknown ones', async () => {
    const operational = await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/ops', event_types: ['endpoint.*', 'message.exhausted'] });
    expect(operational.status).toBe(201);
    expect(operational.body.event_types).toEqual(['endpoint.*', 'message.exhausted']);
    const refused = await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/ops', event_types: ['endpoint.deleted'] });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('endpoint.deleted');
  });

  it('publishes endpoint.disabled and endpoint.enabled, each once, as the partner turns an endpoint off and on', async () => {
    const endpoint = (await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/hooks', event_types: ['purchase.*'] })).body;
    await partner('PATCH', `/endpoints/${endpoint.id}`, { description: 'renamed' });
    expect((await partner('PATCH', `/endpoints/${endpoint.id}`, { enabled: false })).status).toBe(200);
    expect((await partner('PATCH', `/endpoints/${endpoint.id}`, { enabled: true })).status).toBe(200);
    await eventually(() => expect(typesOf(endpoint.id)).toEqual(['endpoint.disabled', 'endpoint.enabled']));
    const [disabled, enabled] = recordsOf(endpoint.id);
    expect(dataOf(disabled!)).toEqual({
      partner_id: partnerId,
      endpoint_id: endpoint.id,
      endpoint_url: 'http://127.0.0.1:9/hooks',
      reason: 'by_partner',
      detail: 'Disabled by the partner.',
      disabled_at: expect.any(String),
    });
    expect(dataOf(enabled!)).toEqual({ partner_id: partnerId, endpoint_id: endpoint.id, endpoint_url: 'http://127.0.0.1:9/hooks', enabled_at: expect.any(String) });
    for (const record of [disabled!, enabled!]) {
      expect(validValue(dataOf(record))).toBe(true);
      expect(validHeaders(record.headers)).toBe(true);
      expect(readCloudEventAttributes(record).subject).toBe(endpoint.id);
    }
  });

  it("publishes endpoint.disabled with delivery's reason when a health report disables an endpoint", async () => {
    const endpoint = (await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/gone', event_types: ['purchase.*'] })).body;
    const report: EndpointHealthReportV1 = { endpoint_id: endpoint.id, partner_id: partnerId, reason: 'gone', detail: '410 Gone from http://127.0.0.1:9/gone', occurred_at: new Date().toISOString() };
    await transport.publish(Topics.endpointHealth, [{ key: endpoint.id, value: JSON.stringify(report), headers: { 'content-type': 'application/json' } }]);
    await eventually(() => expect(typesOf(endpoint.id)).toEqual(['endpoint.disabled']));
    expect(dataOf(recordsOf(endpoint.id)[0]!)).toMatchObject({ reason: 'gone', detail: '410 Gone from http://127.0.0.1:9/gone' });
  });

  it('publishes endpoint.secret_rotation_ending with the expiry of the previous secret and the hours left at the notice', async () => {
    const endpoint = (await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/rotating', event_types: ['purchase.*'] })).body;
    const rotated = await partner('POST', `/endpoints/${endpoint.id}/secret/rotate`);
    expect(rotated.status).toBe(200);
    await eventually(() => expect(typesOf(endpoint.id)).toEqual(['endpoint.secret_rotation_ending']));
    const data = dataOf(recordsOf(endpoint.id)[0]!);
    expect(data).toEqual({
      partner_id: partnerId,
      endpoint_id: endpoint.id,
      endpoint_url: 'http://127.0.0.1:9/rotating',
      rotated_at: rotated.body.rotated_at,
      previous_secret_expires_at: rotated.body.previous_valid_until,
      hours_remaining: 0.5,
    });
    expect(validValue(data)).toBe(true);
  });

  it('publishes nothing there for creating, changing or deleting an endpoint', async () => {
    const endpoint = (await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/quiet', event_types: ['purchase.*'] })).body;
    await partner('PATCH', `/endpoints/${endpoint.id}`, { description: 'quiet' });
    await partner('DELETE', `/endpoints/${endpoint.id}`);
    // A later event of another endpoint is published after these: by then they would have been.
    const marker = (await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/marker', event_types: ['purchase.*'] })).body;
    await partner('PATCH', `/endpoints/${marker.id}`, { enabled: false });
    await eventually(() => expect(typesOf(marker.id)).toEqual(['endpoint.disabled']));
    expect(recordsOf(endpoint.id)).toEqual([]);
  });
});
