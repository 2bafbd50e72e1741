import { Client } from 'pg';
import { createTestDatabase, eventually, type TestDatabase, type TestService } from '@gancho/testing';
import { recordTopics, startSubscriptions, subscriptionsClient, testTopics } from '../testing/subscriptions-test-app';

// Scenarios, on a real database and Kafka:
// - only an operator (admin token) issues portal sessions; unknown partners 404, a too long or too short TTL 400;
// - a session is shown once (no-store), lasts 15 min by default, and its url carries the token in the fragment;
// - the token works on the partner API as its partner only (GET /me says portal_session and when it expires);
// - its record on the api-keys topic carries expires_at; no plaintext token is stored;
// - once expired, it gets 401 with reason "expired"; a lasting key's GET /me says api_key.
describe('portal sessions', () => {
  let database: TestDatabase;
  let service: TestService;
  let lateService: TestService;
  let recorder: Awaited<ReturnType<typeof recordTopics>>;
  const topics = testTopics();
  // A clock 58 s behind: a 60 s session issued through it expires 2 s from now.
  const lagMs = 58_000;

  beforeAll(async () => {
    database = await createTestDatabase('subscriptions_portal');
    service = await startSubscriptions(database.url, { env: { ...topics, CONSOLE_URL: 'https://console.gancho.test/' } });
    lateService = await startSubscriptions(database.url, { env: { ...topics, OUTBOX_RELAY_ENABLED: 'false' }, clock: { now: () => new Date(Date.now() - lagMs) } });
    recorder = await recordTopics([topics.API_KEYS_TOPIC as string]);
  });
  afterAll(async () => {
    await recorder?.stop();
    await lateService?.close();
    await service?.close();
    await database?.drop();
  });

  it('needs the admin token, a known partner and a TTL within bounds', async () => {
    const api = subscriptionsClient(service.url);
    const { partnerId, key } = await api.newPartner('Escola Portal');
    expect((await api.request(undefined, 'POST', `/admin/partners/${partnerId}/portal-sessions`)).status).toBe(401);
    expect((await api.request(key, 'POST', `/admin/partners/${partnerId}/portal-sessions`)).status).toBe(401);
    expect((await api.admin('POST', '/admin/partners/ptn_00000000000000000000000000000000/portal-sessions')).body).toMatchObject({ status: 404, code: 'PARTNER_NOT_FOUND' });
    expect((await api.admin('POST', `/admin/partners/${partnerId}/portal-sessions`, { ttl_seconds: 3601 })).body).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      detail: 'A portal session lasts at most 3600 seconds.',
    });
    expect((await api.admin('POST', `/admin/partners/${partnerId}/portal-sessions`, { ttl_seconds: 5 })).status).toBe(400);
    expect((await api.admin('POST', `/admin/partners/${partnerId}/portal-sessions`, { ttl_seconds: 60, scope: 'all' })).status).toBe(400);
  });

  it('issues a partner-scoped token that every partner route accepts, published with its expiry', async () => {
    const api = subscriptionsClient(service.url);
    const mine = await api.newPartner('Escola Embutida');
    const other = await api.newPartner('Escola Vizinha');
    await eventually(async () => expect((await api.as(other.key)('POST', '/endpoints', { url: 'http://127.0.0.1:9/other', event_types: ['*'] })).status).toBe(201));
    await eventually(async () => expect((await api.as(mine.key)('POST', '/endpoints', { url: 'http://127.0.0.1:9/mine', event_types: ['purchase.*'] })).status).toBe(201));

    const before = Date.now();
    const issued = await api.admin('POST', `/admin/partners/${mine.partnerId}/portal-sessions`);
    expect(issued.status).toBe(201);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    expect(issued.body).toMatchObject({ token: expect.stringMatching(/^gk_live_[A-Za-z0-9_-]{43}$/), key_id: expect.stringMatching(/^key_/), partner_id: mine.partnerId });
    const ttl = Date.parse(issued.body.expires_at) - Date.parse(issued.body.created_at);
    expect(ttl).toBe(15 * 60 * 1000);
    expect(Date.parse(issued.body.created_at)).toBeGreaterThanOrEqual(before - 1000);
    expect(issued.body.url).toBe(`https://console.gancho.test/#portal=${issued.body.token}`);

    const asPortal = api.as(issued.body.token);
    await eventually(async () => expect((await asPortal('GET', '/me')).status).toBe(200));
    expect((await asPortal('GET', '/me')).body).toEqual({
      partner: { id: mine.partnerId, name: 'Escola Embutida' },
      credential: { key_id: issued.body.key_id, kind: 'portal_session', expires_at: issued.body.expires_at },
    });
    expect((await asPortal('GET', '/endpoints')).body.items.map((e: { url: string }) => e.url)).toEqual(['http://127.0.0.1:9/mine']);
    expect((await api.as(mine.key)('GET', '/me')).body).toMatchObject({ credential: { kind: 'api_key', expires_at: null } });

    await eventually(() => {
      const records = recorder.messages.filter((m) => m.key === issued.body.key_id).map((m) => JSON.parse(m.value.toString()));
      expect(records).toEqual([
        {
          key_id: issued.body.key_id,
          partner_id: mine.partnerId,
          key_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
          display_prefix: issued.body.display_prefix,
          revoked: false,
          created_at: issued.body.created_at,
          revoked_at: null,
          expires_at: issued.body.expires_at,
        },
      ]);
    });

    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const dump = await client.query(`SELECT string_agg(row_to_json(e)::text, '') AS all FROM subscriptions.events e`);
      expect(dump.rows[0].all).toContain(issued.body.key_id);
      expect(dump.rows[0].all).not.toContain(issued.body.token.slice(8));
    } finally {
      await client.end();
    }
  });

  it('refuses the token once it expired, saying so', async () => {
    const api = subscriptionsClient(service.url);
    const { partnerId } = await api.newPartner('Escola Breve');
    const issued = await subscriptionsClient(lateService.url).admin('POST', `/admin/partners/${partnerId}/portal-sessions`, { ttl_seconds: 60 });
    expect(issued.status).toBe(201);
    expect(issued.body.url).toBeNull();
    const expiresAt = Date.parse(issued.body.expires_at);
    expect(expiresAt - Date.now()).toBeLessThan(2500);
    const asPortal = api.as(issued.body.token);
    // Valid until then (if the record arrived in time), refused after.
    await eventually(async () => expect([200, 401]).toContain((await asPortal('GET', '/me')).status));
    await eventually(
      async () => {
        const refused = await asPortal('GET', '/endpoints');
        expect(refused.body).toMatchObject({ status: 401, code: 'UNAUTHORIZED', reason: 'expired', expired_at: issued.body.expires_at });
      },
      { intervalMs: 100 },
    );
  });
});
