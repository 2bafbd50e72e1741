import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { webhookEventTypes } from '@gancho/contracts';
import { createTestDatabase, eventually, type TestDatabase, type TestService } from '@gancho/testing';
import { startSubscriptions, subscriptionsClient } from './testing/subscriptions-test-app';

// Scenarios: the event-type catalog with valid examples; the OpenAPI document; per-key rate limiting.
describe('subscriptions API surface', () => {
  let database: TestDatabase;
  let service: TestService;

  beforeAll(async () => {
    database = await createTestDatabase('subscriptions_api');
    service = await startSubscriptions(database.url, { env: { PARTNER_API_RATE_LIMIT_PER_SECOND: '2', PARTNER_API_RATE_LIMIT_BURST: '3' } });
  });
  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  it('lists every event type with its description, phase and schema; examples validate against it', async () => {
    const api = subscriptionsClient(service.url);
    const catalog = await api.request(undefined, 'GET', '/event-types');
    expect(catalog.body.items.map((t: { type: string }) => t.type)).toEqual(webhookEventTypes);
    const made = catalog.body.items.find((t: { type: string }) => t.type === 'purchase.made_effective');
    expect(made).toMatchObject({ phase: 'won', description: expect.any(String), schema: { $id: expect.stringContaining('purchase.made_effective') } });
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    for (const { type, schema } of catalog.body.items.slice(0, 8)) {
      const example = await api.request(undefined, 'GET', `/event-types/${type}/example`);
      expect(example.body.type).toBe(type);
      expect(ajv.validate(schema, example.body) ? [] : ajv.errors).toEqual([]);
    }
    expect((await api.request(undefined, 'GET', '/event-types/purchase.teleported/example')).body).toMatchObject({ status: 404, code: 'EVENT_TYPE_NOT_FOUND' });
  });

  it('documents the API at /docs-json with the request schemas and both bearer schemes', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const document: any = await (await fetch(`${service.url}/docs-json`)).json();
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['admin', 'partner']);
    const create = document.paths['/endpoints'].post;
    expect(create.tags).toEqual(['endpoints']);
    expect(create.security).toEqual([{ partner: [] }]);
    expect(create.requestBody.content['application/json'].schema.properties).toMatchObject({ url: expect.any(Object), event_types: expect.any(Object), headers: expect.any(Object) });
    expect(document.paths['/admin/partners'].post.security).toEqual([{ admin: [] }]);
    expect(document.paths['/event-types'].get.security).toBeUndefined();
    expect((await fetch(`${service.url}/docs`)).status).toBe(200);
  });

  it('limits each API key with a token bucket: 429 RATE_LIMITED with Retry-After', async () => {
    const api = subscriptionsClient(service.url);
    const busy = api.as((await api.newPartner('Escola Apressada')).key);
    const calm = api.as((await api.newPartner('Escola Calma')).key);
    await eventually(async () => expect((await busy('GET', '/endpoints')).status).toBe(200));
    const responses = [];
    for (let i = 0; i < 4; i++) responses.push(await busy('GET', '/endpoints'));
    const limited = responses.find((r) => r.status === 429);
    expect(limited?.body).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await eventually(async () => expect((await calm('GET', '/endpoints')).status).toBe(200));
    // The bucket refills: the key is served again.
    await eventually(async () => expect((await busy('GET', '/endpoints')).status).toBe(200), { intervalMs: 250 });
  });
});
