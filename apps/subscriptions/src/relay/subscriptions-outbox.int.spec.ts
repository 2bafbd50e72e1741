import { cloudEventSources, cloudEventTypes, legacyEventHeaders, readCloudEventAttributes } from '@gancho/contracts';
import { createTestDatabase, eventually, readBackCloudEvent, type TestDatabase, type TestService } from '@gancho/testing';
import { recordTopics, startSubscriptions, subscriptionsClient, testTopics } from '../testing/subscriptions-test-app';
import { endpointsRelayName } from './subscriptions-outbox';
import { apiKeysRelayName } from './api-key-publication';

// Scenarios, on the real PostgreSQL and Kafka:
// - every record of subscriptions.endpoints.v1 (states and the delete's tombstone) and of
//   subscriptions.api-keys.v1 (issued, revoked) is a CloudEvent in binary mode, read back with
//   kafkajs and checked with the `cloudevents` SDK, keyed by its subject, with the trace context;
// - for the compatibility window, each also carries the headers release v0.1.0 wrote
//   (gancho-event-id, gancho-event-type), naming the same event;
// - both relays report their lag on /metrics, as journey's and delivery's do.
describe('subscriptions outbox', () => {
  let database: TestDatabase;
  let service: TestService;
  let recorder: Awaited<ReturnType<typeof recordTopics>>;
  const topics = testTopics();
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const traceIdOf = (header: string | undefined) => header?.split('-')[1];

  beforeAll(async () => {
    database = await createTestDatabase('subscriptions_outbox');
    service = await startSubscriptions(database.url, { env: topics });
    recorder = await recordTopics([topics.ENDPOINTS_TOPIC as string, topics.API_KEYS_TOPIC as string]);
  });
  afterAll(async () => {
    await recorder?.stop();
    await service?.close();
    await database?.drop();
  });

  it('publishes every endpoint state and key record as a CloudEvent, with the v0.1.0 headers beside', async () => {
    const api = subscriptionsClient(service.url);
    const { partnerId, key, keyId } = await api.newPartner('Escola Azul');
    const partner = api.as(key);
    const created = await eventually(async () => {
      const response = await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/hooks', event_types: ['purchase.*'] }, { traceparent });
      expect(response.status).toBe(201);
      return response;
    });
    const endpointId = created.body.id as string;
    expect((await partner('PATCH', `/endpoints/${endpointId}`, { description: 'matrículas' }, { traceparent })).status).toBe(200);
    expect((await partner('DELETE', `/endpoints/${endpointId}`, undefined, { traceparent })).status).toBe(204);
    expect((await api.admin('POST', `/admin/partners/${partnerId}/api-keys/${keyId}/revoke`)).status).toBe(200);

    const ofEndpoint = () => recorder.messages.filter((m) => m.topic === topics.ENDPOINTS_TOPIC && m.key === endpointId);
    const ofKey = () => recorder.messages.filter((m) => m.topic === topics.API_KEYS_TOPIC && m.key === keyId);
    await eventually(() => {
      expect(ofEndpoint()).toHaveLength(3);
      expect(ofKey()).toHaveLength(2);
    });

    for (const record of ofEndpoint()) readBackCloudEvent(record, { source: cloudEventSources.subscriptions, type: cloudEventTypes.endpointState });
    for (const record of ofKey()) readBackCloudEvent(record, { source: cloudEventSources.subscriptions, type: cloudEventTypes.apiKey });
    expect(ofEndpoint().map((m) => m.value.length === 0)).toEqual([false, false, true]);
    expect(ofEndpoint().map((m) => traceIdOf(m.headers.traceparent))).toEqual([traceIdOf(traceparent), traceIdOf(traceparent), traceIdOf(traceparent)]);

    const all = [...ofEndpoint(), ...ofKey()];
    expect(new Set(all.map((m) => m.headers.ce_id)).size).toBe(all.length);
    expect(all.every((m) => m.headers[legacyEventHeaders.id] === m.headers.ce_id)).toBe(true);
    expect(ofEndpoint().map((m) => m.headers[legacyEventHeaders.type])).toEqual(['EndpointCreated', 'EndpointUpdated', 'EndpointDeleted']);
    expect(ofKey().map((m) => m.headers[legacyEventHeaders.type])).toEqual(['ApiKeyIssued', 'ApiKeyRevoked']);
    // A new consumer takes the ce_ attributes; one of v0.1.0 still finds its own headers.
    expect(all.map((m) => readCloudEventAttributes(m).headers)).toEqual(all.map(() => 'cloudevents'));
  });

  it('reports the lag of both relays on /metrics', async () => {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    for (const relay of [endpointsRelayName, apiKeysRelayName]) {
      expect(metrics).toMatch(new RegExp(`^gancho_outbox_lag_seconds\\{[^}]*relay="${relay.replace(/\./g, '\\.')}"[^}]*\\} \\d`, 'm'));
      expect(metrics).toMatch(new RegExp(`^gancho_outbox_lag_events\\{[^}]*relay="${relay.replace(/\./g, '\\.')}"[^}]*\\} \\d`, 'm'));
    }
  });
});
