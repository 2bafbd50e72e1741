import { createTestDatabase, type TestDatabase, type TestService } from '@gancho/testing';
import { startSubscriptions, subscriptionsClient } from '../testing/subscriptions-test-app';

const rounds = 20;

// Scenarios, on a real database, on Kafka and on the PostgreSQL log:
// - an API key used the moment POST /admin/partners/{id}/api-keys answered 201 is admitted, every time (never 401);
// - so is a portal-session token on GET /me the moment POST …/portal-sessions answered;
// - a key nobody issued still gets 401 UNAUTHORIZED (after the table caught up), twice.
describe.each(['kafka', 'postgres'] as const)('issued credentials work at once (read-your-writes), on %s', (transport) => {
  let database: TestDatabase;
  let service: TestService;

  beforeAll(async () => {
    database = await createTestDatabase(`subscriptions_key_ryw_${transport}`);
    service = await startSubscriptions(database.url, { transport });
  });
  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  it(`admits ${rounds} keys and ${rounds} portal sessions, each used right after it was issued`, async () => {
    const api = subscriptionsClient(service.url);
    const partner = await api.admin('POST', '/admin/partners', { name: 'Escola Pressa' });
    expect(partner.status).toBe(201);
    const keyStatuses: number[] = [];
    const sessionStatuses: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const issued = await api.admin('POST', `/admin/partners/${partner.body.id}/api-keys`);
      expect(issued.status).toBe(201);
      keyStatuses.push((await api.as(issued.body.key)('GET', '/me')).status);
      const session = await api.admin('POST', `/admin/partners/${partner.body.id}/portal-sessions`);
      expect(session.status).toBe(201);
      sessionStatuses.push((await api.as(session.body.token)('GET', '/me')).status);
    }
    expect({ keyStatuses, sessionStatuses }).toEqual({ keyStatuses: Array(rounds).fill(200), sessionStatuses: Array(rounds).fill(200) });
  });

  it('still refuses a key nobody issued with 401', async () => {
    const api = subscriptionsClient(service.url);
    const unknown = `gk_live_${Buffer.alloc(32, 9).toString('base64url')}`;
    for (let i = 0; i < 2; i++) {
      const refused = await api.as(unknown)('GET', '/me');
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ code: 'UNAUTHORIZED' });
    }
  });
});
