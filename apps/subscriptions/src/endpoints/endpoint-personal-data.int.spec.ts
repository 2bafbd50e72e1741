import type { EndpointStateV1 } from '@gancho/contracts';
import { createTestDatabase, eventually, type TestDatabase, type TestService } from '@gancho/testing';
import { recordTopics, startSubscriptions, subscriptionsClient, testTopics } from '../testing/subscriptions-test-app';

// Scenarios (LGPD), on real PostgreSQL and Kafka:
// - include_personal_data defaults to true, can be false on create and changed by PATCH; the API, the audit trail
//   and the published endpoint state say so.
// - An ActiveCampaign endpoint cannot opt out (a contact is synced by its e-mail): 422 naming the field.
// - An ActiveCampaign destination's on_erasure is "keep" unless set to "delete", kept by a PATCH that leaves it
//   out, and published on the endpoint state.
// - The catalog lists purchase.personal_data_erased (phase null) with its schema and example, and endpoints
//   subscribe to it.
describe('endpoints and students’ personal data', () => {
  let database: TestDatabase;
  let service: TestService;
  let recorder: Awaited<ReturnType<typeof recordTopics>>;
  let partner: (method: string, path: string, body?: unknown) => ReturnType<ReturnType<typeof subscriptionsClient>['request']>;
  const topics = testTopics();
  const statesOf = (endpointId: string): EndpointStateV1[] => recorder.messages.filter((m) => m.key === endpointId && m.value.length > 0).map((m) => JSON.parse(m.value.toString()) as EndpointStateV1);
  const activeCampaign = (extra: Record<string, unknown> = {}) => ({ type: 'activecampaign', api_url: 'http://127.0.0.1:9', api_token: 'ac-token-0123456789abcdef', ...extra });

  beforeAll(async () => {
    database = await createTestDatabase('subscriptions_personal_data');
    service = await startSubscriptions(database.url, { env: { ...topics } });
    recorder = await recordTopics([topics.ENDPOINTS_TOPIC as string]);
    const api = subscriptionsClient(service.url);
    const created = await api.newPartner('Escola Verde');
    partner = api.as(created.key);
    await eventually(async () => expect((await partner('GET', '/endpoints')).status).toBe(200));
  });
  afterAll(async () => {
    await recorder?.stop();
    await service?.close();
    await database?.drop();
  });

  it('keeps include_personal_data (default true) in the API, the audit trail and the published state', async () => {
    const byDefault = await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/hooks', event_types: ['purchase.*'] });
    expect(byDefault.status).toBe(201);
    expect(byDefault.body['include_personal_data']).toBe(true);
    const minimal = await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/hooks', event_types: ['purchase.*'], include_personal_data: false });
    expect(minimal.body['include_personal_data']).toBe(false);
    const id = String(minimal.body['id']);
    expect((await partner('GET', `/endpoints/${id}`)).body['include_personal_data']).toBe(false);
    await eventually(() => expect(statesOf(id).at(-1)?.include_personal_data).toBe(false));

    const patched = await partner('PATCH', `/endpoints/${id}`, { include_personal_data: true });
    expect(patched.body['include_personal_data']).toBe(true);
    await eventually(() => expect(statesOf(id).at(-1)?.include_personal_data).toBe(true));
    const audit = await partner('GET', `/endpoints/${id}/audit`);
    expect((audit.body['items'] as { changes: Record<string, unknown> }[]).map((i) => i.changes['include_personal_data'])).toEqual([false, true]);
    expect((await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/hooks', event_types: ['*'], include_personal_data: 'no' })).status).toBe(400);
  });

  it('refuses an ActiveCampaign endpoint without personal data, and keeps its on_erasure choice', async () => {
    const refused = await partner('POST', '/endpoints', { destination: activeCampaign(), event_types: ['purchase.*'], include_personal_data: false });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('include_personal_data');

    const kept = await partner('POST', '/endpoints', { destination: activeCampaign(), event_types: ['purchase.*'] });
    expect(kept.status).toBe(201);
    expect((kept.body['destination'] as Record<string, unknown>)['on_erasure']).toBe('keep');
    const deleting = await partner('POST', '/endpoints', { destination: activeCampaign({ on_erasure: 'delete' }), event_types: ['purchase.*'] });
    const id = String(deleting.body['id']);
    expect((deleting.body['destination'] as Record<string, unknown>)['on_erasure']).toBe('delete');
    // A PATCH of the destination that leaves on_erasure out keeps it.
    const patched = await partner('PATCH', `/endpoints/${id}`, { destination: { type: 'activecampaign', api_url: 'http://127.0.0.1:9' } });
    expect((patched.body['destination'] as Record<string, unknown>)['on_erasure']).toBe('delete');
    await eventually(() => expect(statesOf(id).at(-1)?.destination).toMatchObject({ type: 'activecampaign', on_erasure: 'delete' }));
  });

  it('lists purchase.personal_data_erased in the catalog, and endpoints subscribe to it', async () => {
    const catalog = await partner('GET', '/event-types');
    const erased = (catalog.body['items'] as { type: string; phase: unknown; schema: { $id: string } }[]).find((t) => t.type === 'purchase.personal_data_erased');
    expect(erased).toMatchObject({ phase: null, schema: { $id: 'https://schemas.gancho.dev/webhooks/purchase.personal_data_erased/v1.json' } });
    expect((await partner('GET', '/event-types/purchase.personal_data_erased/example')).body).toMatchObject({ type: 'purchase.personal_data_erased', data: { student: { id: expect.stringMatching(/^sub_/) } } });
    const subscribed = await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/hooks', event_types: ['purchase.personal_data_erased'] });
    expect(subscribed.status).toBe(201);
  });
});
