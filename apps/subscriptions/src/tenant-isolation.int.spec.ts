import { createTestDatabase, eventually, type TestDatabase, type TestService } from '@gancho/testing';
import { startSubscriptions, subscriptionsClient } from './testing/subscriptions-test-app';

type Operation = { security?: Array<Record<string, unknown>> };

// Scenario: partner A walks EVERY partner route of the API (read from the OpenAPI document, so a
// new route is walked too) against partner B's endpoint, and gets 404 for each; B's endpoint is
// untouched afterwards. A's listing never shows B's endpoints; Idempotency-Keys are per partner.
describe('tenant isolation', () => {
  let database: TestDatabase;
  let service: TestService;
  let a: ReturnType<ReturnType<typeof subscriptionsClient>['as']>;
  let b: ReturnType<ReturnType<typeof subscriptionsClient>['as']>;

  beforeAll(async () => {
    database = await createTestDatabase('subscriptions_isolation');
    service = await startSubscriptions(database.url);
    const api = subscriptionsClient(service.url);
    a = api.as((await api.newPartner('Escola A')).key);
    b = api.as((await api.newPartner('Escola B')).key);
    await eventually(async () => {
      expect((await a('GET', '/endpoints')).status).toBe(200);
      expect((await b('GET', '/endpoints')).status).toBe(200);
    });
  });
  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  it('answers 404 on every partner route for another partner’s endpoint, and changes nothing', async () => {
    const { body: theirs } = await b('POST', '/endpoints', { url: 'http://127.0.0.1:9/b', event_types: ['*'] });
    const theirSecret = (await b('GET', `/endpoints/${theirs.id}/secret`)).body;
    const document = (await (await fetch(`${service.url}/docs-json`)).json()) as { paths: Record<string, Record<string, Operation>> };

    const walked: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const isPartnerRoute = operation.security?.some((scheme) => 'partner' in scheme);
        if (!isPartnerRoute || !path.includes('{id}')) continue;
        const url = path.replace('{id}', theirs.id);
        const body = method === 'patch' ? { description: 'taken over', enabled: false, url: 'http://127.0.0.1:9/a' } : method === 'post' ? {} : undefined;
        const response = await a(method.toUpperCase(), url, body);
        expect({ route: `${method} ${path}`, status: response.status, code: response.body?.code }).toEqual({ route: `${method} ${path}`, status: 404, code: 'ENDPOINT_NOT_FOUND' });
        expect(JSON.stringify(response.body)).not.toContain('whsec_');
        walked.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(walked.sort()).toEqual(['DELETE /endpoints/{id}', 'GET /endpoints/{id}', 'GET /endpoints/{id}/audit', 'GET /endpoints/{id}/secret', 'PATCH /endpoints/{id}', 'POST /endpoints/{id}/secret/rotate'].sort());

    const after = await b('GET', `/endpoints/${theirs.id}`);
    expect(after.body).toEqual(theirs);
    expect((await b('GET', `/endpoints/${theirs.id}/secret`)).body).toEqual(theirSecret);
    expect((await b('GET', `/endpoints/${theirs.id}/audit`)).body.items).toHaveLength(1);
  });

  it('lists only the caller’s endpoints', async () => {
    const { body: mine } = await a('POST', '/endpoints', { url: 'http://127.0.0.1:9/a', event_types: ['*'] });
    const { body: theirs } = await b('POST', '/endpoints', { url: 'http://127.0.0.1:9/b', event_types: ['*'] });
    const ids = (await a('GET', '/endpoints?limit=100')).body.items.map((e: { id: string }) => e.id);
    expect(ids).toContain(mine.id);
    expect(ids).not.toContain(theirs.id);
    // A cursor taken from the other partner's ids pages only through the caller's own.
    const paged = (await a('GET', `/endpoints?cursor=${theirs.id.replace(/.$/, '0')}`)).body.items;
    expect(paged.every((e: { partner_id: string }) => e.partner_id === mine.partner_id)).toBe(true);
  });

  it('keeps Idempotency-Keys per partner', async () => {
    const body = { url: 'http://127.0.0.1:9/same', event_types: ['*'] };
    const fromA = await a('POST', '/endpoints', body, { 'idempotency-key': 'shared-key' });
    const fromB = await b('POST', '/endpoints', body, { 'idempotency-key': 'shared-key' });
    expect(fromB.status).toBe(201);
    expect(fromB.headers.get('idempotent-replayed')).toBeNull();
    expect(fromB.body.id).not.toBe(fromA.body.id);
    expect(fromB.body.partner_id).not.toBe(fromA.body.partner_id);
  });
});
