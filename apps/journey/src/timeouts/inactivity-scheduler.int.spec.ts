import { createTestDatabase, type TestDatabase, type TestService } from '@gancho/testing';
import { journeyClient, startJourney, TestClock } from '../testing/journey-test-app';
import { InactivityScheduler } from './inactivity-scheduler';

const hour = 60 * 60 * 1000;

// Scenarios, with an injected clock, two replicas on one real PostgreSQL:
// - idle open purchases have their link marked inactive once, by exactly one replica;
// - a purchase with recent activity is left alone;
// - inactive links expire after the second period; purchases past the open phase never time out.
describe('inactivity scheduler', () => {
  let database: TestDatabase;
  let replicas: TestService[];
  const clock = new TestClock(new Date('2026-11-27T12:00:00Z'));

  beforeAll(async () => {
    database = await createTestDatabase('journey_timeouts');
    const env = { OUTBOX_RELAY_ENABLED: 'false', CART_INACTIVE_AFTER_MS: String(24 * hour), EXPIRE_AFTER_INACTIVE_MS: String(48 * hour) };
    replicas = [await startJourney(database.url, { clock, env }), await startJourney(database.url, { clock, env })];
  });
  afterAll(async () => {
    await Promise.all(replicas?.map((r) => r.close()) ?? []);
    await database?.drop();
  });

  const scanEverywhere = () => Promise.all(replicas.map((r) => r.app.get(InactivityScheduler).runOnce(3)));

  it('marks idle links inactive once, expires them later, and leaves active and sold purchases alone', async () => {
    const api = journeyClient(replicas[0]!.url);
    const idle = await Promise.all(Array.from({ length: 10 }, () => api.open()));
    const active = (await api.open()).body.purchase_id;
    const sold = (await api.open()).body.purchase_id;
    for (const step of ['submit-basic-info']) await api.command(sold, step);
    await api.request('POST', `/purchases/${sold}/review-basic-info`, { decision: 'approved' });
    await api.command(sold, 'submit-documents');
    await api.command(sold, 'review-documents', { decision: 'approved' });
    await api.command(sold, 'approve-credit'); // approved_by_provi: waiting for conclusion, not open

    clock.advance(20 * hour);
    await api.command(active, 'submit-basic-info'); // activity resets its clock
    expect(await scanEverywhere()).toEqual([0, 0]);

    clock.advance(5 * hour); // idle ones: 25 h; active one: 5 h since its last command
    const issued = await scanEverywhere();
    expect(issued[0]! + issued[1]!).toBe(10);
    for (const { body } of idle) {
      const purchase = (await api.get(body.purchase_id)).body;
      expect(purchase.status).toBe('link_inactive');
      expect(purchase.history.filter((h: { type: string }) => h.type === 'LinkMarkedInactive')).toHaveLength(1);
    }
    expect((await api.get(active)).body.status).toBe('basic_info_review');
    expect((await api.get(sold)).body.status).toBe('approved_by_provi');

    clock.advance(47 * hour); // 72 h: the once-active purchase has now been idle 52 h
    const second = await scanEverywhere();
    expect(second[0]! + second[1]!).toBe(1);
    expect((await api.get(active)).body.status).toBe('link_inactive');
    clock.advance(2 * hour); // 74 h: the first ten have been inactive 49 h
    const expired = await scanEverywhere();
    expect(expired[0]! + expired[1]!).toBe(10);
    expect((await api.get(idle[3]!.body.purchase_id)).body.status).toBe('expired');
    expect(await scanEverywhere()).toEqual([0, 0]);
    expect((await api.get(active)).body.status).toBe('link_inactive');
    expect((await api.get(sold)).body.status).toBe('approved_by_provi');
  });
});
