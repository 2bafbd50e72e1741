import { createTestDatabase, eventually, type TestDatabase, type TestService } from '@gancho/testing';
import { Client } from 'pg';
import { recordTopics, startSubscriptions, subscriptionsClient, testTopics } from '../testing/subscriptions-test-app';

// Scenarios, two instances of the service on one database and real Kafka:
// - the admin API needs an admin token; partners are created, listed and read;
// - a key is shown once; listings show its display prefix, never the key or its hash;
// - the key works on the partner API of both instances; once revoked, both answer 401 within seconds;
// - every key record reaches the compacted api-keys topic, keyed by key id, revocation included;
// - no plaintext key is stored anywhere in the database.
describe('partners and API keys', () => {
  let database: TestDatabase;
  let first: TestService;
  let second: TestService;
  let recorder: Awaited<ReturnType<typeof recordTopics>>;
  const topics = testTopics();

  beforeAll(async () => {
    database = await createTestDatabase('subscriptions_partners');
    first = await startSubscriptions(database.url, { env: topics });
    second = await startSubscriptions(database.url, { env: topics });
    recorder = await recordTopics([topics.API_KEYS_TOPIC as string]);
  });
  afterAll(async () => {
    await recorder?.stop();
    await second?.close();
    await first?.close();
    await database?.drop();
  });

  it('requires an admin token', async () => {
    const api = subscriptionsClient(first.url);
    expect((await api.request(undefined, 'GET', '/admin/partners')).status).toBe(401);
    const wrong = await api.request('not-the-admin-token-at-all-000000', 'GET', '/admin/partners');
    expect(wrong).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
  });

  it('creates, lists and reads partners, with a cursor', async () => {
    const api = subscriptionsClient(first.url);
    const created = await api.admin('POST', '/admin/partners', { name: 'Escola Azul' }, { 'idempotency-key': 'azul-1' });
    expect(created).toMatchObject({ status: 201, body: { id: expect.stringMatching(/^ptn_[0-9a-f]{32}$/), name: 'Escola Azul' } });
    const replay = await api.admin('POST', '/admin/partners', { name: 'Escola Azul' }, { 'idempotency-key': 'azul-1' });
    expect(replay.body).toEqual(created.body);
    await api.admin('POST', '/admin/partners', { name: 'Escola Verde' });
    await api.admin('POST', '/admin/partners', { name: 'Escola Roxa' });
    expect((await api.admin('GET', `/admin/partners/${created.body.id}`)).body).toEqual(created.body);
    const page1 = await api.admin('GET', '/admin/partners?limit=2');
    expect(page1.body.items).toHaveLength(2);
    const page2 = await api.admin('GET', `/admin/partners?limit=2&cursor=${page1.body.next_cursor}`);
    expect(page2.body).toMatchObject({ items: [{ name: 'Escola Roxa' }], next_cursor: null });
    expect((await api.admin('GET', '/admin/partners/ptn_00000000000000000000000000000000')).body).toMatchObject({ status: 404, code: 'PARTNER_NOT_FOUND' });
    expect((await api.admin('POST', '/admin/partners', { name: '', colour: 'blue' })).status).toBe(400);
  });

  it('issues a key once, lists keys without secrets, and a revoked key stops working on every instance', async () => {
    const api = subscriptionsClient(first.url);
    const partner = await api.admin('POST', '/admin/partners', { name: 'Escola Sol' });
    const issued = await api.admin('POST', `/admin/partners/${partner.body.id}/api-keys`);
    expect(issued.status).toBe(201);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    expect(issued.body).toMatchObject({
      id: expect.stringMatching(/^key_/),
      key: expect.stringMatching(/^gk_live_[A-Za-z0-9_-]{43}$/),
      display_prefix: issued.body.key.slice(0, 14),
      revoked: false,
    });
    const listed = await api.admin('GET', `/admin/partners/${partner.body.id}/api-keys`);
    expect(listed.body.items).toEqual([{ id: issued.body.id, partner_id: partner.body.id, display_prefix: issued.body.display_prefix, revoked: false, created_at: issued.body.created_at, revoked_at: null }]);
    expect(JSON.stringify(listed.body)).not.toContain(issued.body.key.slice(14));

    const onFirst = subscriptionsClient(first.url).as(issued.body.key);
    const onSecond = subscriptionsClient(second.url).as(issued.body.key);
    await eventually(async () => expect((await onFirst('GET', '/endpoints')).status).toBe(200));
    await eventually(async () => expect((await onSecond('GET', '/endpoints')).status).toBe(200));

    const revoked = await api.admin('POST', `/admin/partners/${partner.body.id}/api-keys/${issued.body.id}/revoke`);
    expect(revoked.body).toMatchObject({ revoked: true, revoked_at: expect.any(String) });
    await eventually(async () => expect((await onFirst('GET', '/endpoints')).body).toMatchObject({ status: 401, code: 'UNAUTHORIZED' }), { timeoutMs: 30_000 });
    await eventually(async () => expect((await onSecond('GET', '/endpoints')).status).toBe(401), { timeoutMs: 30_000 });
    // Revoking again changes nothing.
    expect((await api.admin('POST', `/admin/partners/${partner.body.id}/api-keys/${issued.body.id}/revoke`)).body).toEqual(revoked.body);

    await eventually(() => {
      const records = recorder.messages.filter((m) => m.key === issued.body.id).map((m) => JSON.parse(m.value.toString()));
      expect(records).toEqual([
        expect.objectContaining({ key_id: issued.body.id, partner_id: partner.body.id, revoked: false, revoked_at: null, display_prefix: issued.body.display_prefix }),
        expect.objectContaining({ key_id: issued.body.id, revoked: true, revoked_at: revoked.body.revoked_at, created_at: issued.body.created_at }),
      ]);
      expect(records[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
    });

    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const dump = await client.query(`SELECT string_agg(t::text, '') AS all FROM (
        SELECT row_to_json(e)::text AS t FROM subscriptions.events e UNION ALL SELECT row_to_json(k)::text FROM subscriptions.api_keys k
        UNION ALL SELECT row_to_json(i)::text FROM subscriptions.idempotency_keys i) rows`);
      expect(dump.rows[0].all).not.toContain(issued.body.key.slice(8));
    } finally {
      await client.end();
    }
  });

  it('answers 404 for keys of unknown partners and unknown keys', async () => {
    const api = subscriptionsClient(first.url);
    const partner = await api.admin('POST', '/admin/partners', { name: 'Escola Lua' });
    expect((await api.admin('POST', '/admin/partners/ptn_00000000000000000000000000000000/api-keys')).body).toMatchObject({ code: 'PARTNER_NOT_FOUND' });
    expect((await api.admin('POST', `/admin/partners/${partner.body.id}/api-keys/key_00000000000000000000000000000000/revoke`)).body).toMatchObject({
      code: 'API_KEY_NOT_FOUND',
    });
  });
});
