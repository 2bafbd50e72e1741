import { DataSource } from 'typeorm';
import { defaultActiveCampaignMapping, eventTypeOf, examplePayload, type PurchaseStatus } from '@gancho/contracts';
import { activeCampaignEventForm, activeCampaignUpdate, type ActiveCampaignStatusEvent } from '@gancho/delivery-domain';
import { ActiveCampaignFake, createTestDatabase, eventually, type TestDatabase } from '@gancho/testing';
import { WebhookSender } from '@gancho/webhook-sender';
import { AddActiveCampaignRateSlots1764900000000 } from '../../migrations/add-activecampaign-rate-slots';
import { ActiveCampaignClient, type ApplyOutcome } from './activecampaign-client';
import { ActiveCampaignRateLimiter } from './activecampaign-rate-limiter';

// Scenarios, against the local ActiveCampaign server (a real HTTP server on loopback) and real PostgreSQL:
// - a first event creates the custom fields (related to all lists) and tags, syncs the contact with its field
//   values and tags it; later events reuse the cached ids (only the calls that must happen);
// - two clients (as two delivery replicas) on one account never exceed 5 requests in any second: no 429;
// - a reservation that queued on the account's slot row is not sent ahead of its slot;
// - 429 with Retry-After: retried then, and the whole account pauses; 403 (bad token): disable, with AC's text
//   and never the token; 422 (invalid e-mail): failed for good with AC's error text; 500: retried;
// - a booked-up account gives the message back without sending anything;
// - with event tracking on, the status is also recorded as an event; a wrong event key fails the message for good.
describe('ActiveCampaign client', () => {
  const token = 'ac-test-token-5f2c9a1b7e3d4c6a8b0f1e2d3c4b5a69';
  let database: TestDatabase;
  let dataSource: DataSource;
  let fake: ActiveCampaignFake;
  let sender: WebhookSender;
  let limiter: ActiveCampaignRateLimiter;
  let client: ActiveCampaignClient;
  const budget = () => ({ startCallsBy: Date.now() + 20_000, maxFirstWaitMs: 20_000 });
  const account = () => ({ apiUrl: fake.apiUrl, apiToken: token });
  const updateFor = (status: PurchaseStatus, student: Partial<ActiveCampaignStatusEvent['student']> = {}, purchaseId = 'pur_ac_1') => {
    const data = examplePayload(eventTypeOf(status)).data;
    return activeCampaignUpdate({ ...data, purchase_id: purchaseId, student: { ...data.student, ...student } }, defaultActiveCampaignMapping());
  };
  const decisionOf = (outcome: ApplyOutcome) => (outcome.kind === 'failed' ? outcome.decision : outcome.kind);

  beforeAll(async () => {
    database = await createTestDatabase('ac_client');
    dataSource = await new DataSource({ type: 'postgres', url: database.url, migrations: [AddActiveCampaignRateSlots1764900000000] }).initialize();
    await dataSource.runMigrations();
  });
  beforeEach(async () => {
    fake = await new ActiveCampaignFake({ tokens: [token], eventTracking: { actid: '778899', key: 'event-key-0123456789abcdef' } }).start();
    sender = new WebhookSender({ allowHttp: true, allowPrivateNetworks: false, allowedHosts: [fake.host], timeoutMs: 5000 });
    limiter = new ActiveCampaignRateLimiter(dataSource);
    client = new ActiveCampaignClient(sender, limiter);
  });
  afterEach(async () => {
    await sender.close();
    await fake.stop();
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('creates fields and tags on first use, syncs and tags the contact, then reuses the ids', async () => {
    const first = await client.apply(account(), updateFor('link_inactive', { name: 'Maria da Silva', email: 'maria@escola.example', phone: '(11) 98765-4321' }), budget());
    expect(first.kind).toBe('applied');
    const contact = fake.contact('maria@escola.example');
    expect(contact).toMatchObject({ firstName: 'Maria', lastName: 'da Silva', phone: '+5511987654321' });
    expect(contact?.fields).toEqual({
      GANCHO_COURSE: 'Full-stack Web Development',
      GANCHO_PURCHASE_ID: 'pur_ac_1',
      GANCHO_STATUS: 'link_inactive',
      GANCHO_PHASE: 'lost',
      GANCHO_PRICE: '12345.00',
    });
    expect(contact?.tags).toEqual(['gancho:link_inactive', 'gancho:cart_recovery']);
    expect(fake.fieldByPerstag('GANCHO_STATUS')).toMatchObject({ title: 'Gancho: purchase status', type: 'text', relations: ['0'] });
    const routes = fake.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);
    expect(routes).toEqual([
      'GET /api/3/fields',
      ...Array.from({ length: 5 }, () => ['POST /api/3/fields', 'POST /api/3/fieldRels']).flat(),
      'POST /api/3/contact/sync',
      'GET /api/3/tags',
      'POST /api/3/tags',
      'POST /api/3/contactTags',
      'GET /api/3/tags',
      'POST /api/3/tags',
      'POST /api/3/contactTags',
    ]);
    expect(fake.requests.every((r) => r.token === token && r.status < 300)).toBe(true);

    // The same contact moves on: only the sync, one new tag and the tagging.
    const before = fake.requests.length;
    expect((await client.apply(account(), updateFor('expired', { name: 'Maria da Silva', email: 'maria@escola.example' }), budget())).kind).toBe('applied');
    expect(fake.requests.slice(before).map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      'POST /api/3/contact/sync',
      'GET /api/3/tags',
      'POST /api/3/tags',
      'POST /api/3/contactTags',
      'POST /api/3/contactTags',
    ]);
    expect(fake.contact('maria@escola.example')).toMatchObject({ phone: '+5511987654321', fields: { GANCHO_STATUS: 'expired' } });
    expect(fake.contact('maria@escola.example')?.tags).toEqual(['gancho:link_inactive', 'gancho:cart_recovery', 'gancho:expired']);
    expect(fake.tagNames).toEqual(['gancho:link_inactive', 'gancho:cart_recovery', 'gancho:expired']);

    // A process that starts afresh finds the existing fields and tags instead of creating them again.
    const fresh = new ActiveCampaignClient(sender, limiter);
    expect((await fresh.apply(account(), updateFor('link_inactive', { email: 'joao@escola.example', name: 'João' }, 'pur_ac_2'), budget())).kind).toBe('applied');
    expect(fake.tagNames).toHaveLength(3);
    expect(fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/3/fields')).toHaveLength(5);
    expect(fake.contact('joao@escola.example')).toMatchObject({ firstName: 'João', lastName: '', fields: { GANCHO_PURCHASE_ID: 'pur_ac_2' }, tags: ['gancho:link_inactive', 'gancho:cart_recovery'] });
  });

  it('keeps two replicas on one account within 5 requests per second, with no 429', async () => {
    const replicas = [client, new ActiveCampaignClient(sender, new ActiveCampaignRateLimiter(dataSource))];
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => replicas[i % 2]!.apply(account(), updateFor('expired', { email: `aluno${i}@escola.example` }, `pur_rate_${i}`), budget())));
    const seconds = (Date.now() - started) / 1000;
    expect(outcomes.map((o) => o.kind)).toEqual(Array.from({ length: 12 }, () => 'applied'));
    expect(fake.contacts).toHaveLength(12);
    const peak = fake.peakRequestsPerSecond();
    process.stdout.write(`[activecampaign] ${fake.requests.length} requests in ${seconds.toFixed(1)} s; peak ${peak.calendar} per calendar second, ${peak.sliding} per sliding second\n`);
    expect(fake.requests.filter((r) => r.status === 429)).toEqual([]);
    expect(peak.sliding).toBeLessThanOrEqual(5);
    expect(peak.calendar).toBeLessThanOrEqual(5);
    // Paced, not starved: about 4 per second when the machine is quiet (printed above, not bounded: a busy machine
    // answers reservations late, and a late one gives its slot up rather than crowd the next).
    expect(fake.requests.length).toBeGreaterThan(12);
  });

  it('makes no burst after a stalled event loop: late wakers take new slots', async () => {
    // Warm the caches, so each apply is three calls (sync and two tags).
    expect((await client.apply(account(), updateFor('expired', { email: 'warm@escola.example' }), budget())).kind).toBe('applied');
    // The fake's sliding second is clear of the warm-up before the burst is measured.
    await eventually(() => expect(Date.now() - fake.requests.at(-1)!.at).toBeGreaterThanOrEqual(1000), { intervalMs: 50 });
    const from = fake.requests.length;
    const pending = Array.from({ length: 4 }, (_, i) => client.apply(account(), updateFor('expired', { email: `stall${i}@escola.example` }), budget()));
    // Slots are reserved and the first call is out: the rest wait on timers.
    await eventually(() => expect(fake.requests.length).toBeGreaterThan(from), { intervalMs: 5 });
    // The process does nothing else for 900 ms: every timer due meanwhile fires at once afterwards.
    const until = Date.now() + 900;
    while (Date.now() < until);
    expect((await Promise.all(pending)).map((o) => o.kind)).toEqual(['applied', 'applied', 'applied', 'applied']);
    const times = fake.requests.slice(from).map((r) => r.at);
    const inAnySecond = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    expect(inAnySecond).toBeLessThanOrEqual(5);
    expect(fake.requests.filter((r) => r.status === 429)).toEqual([]);
  });

  it('never sends ahead of its slot when the reservation queued on the slot row', async () => {
    expect((await client.apply(account(), updateFor('expired', { email: 'warm@escola.example' }), budget())).kind).toBe('applied');
    // The next two seconds of the account are booked, so the reservation below is given a wait.
    for (let i = 0; i < 8; i += 1) await limiter.reserve(fake.apiUrl, 10_000);
    const [{ slotAt }] = await dataSource.query('SELECT (EXTRACT(EPOCH FROM next_slot_at) * 1000)::float8 AS "slotAt" FROM activecampaign_rate_slots WHERE account = $1', [fake.apiUrl]);
    // Another replica's reservation holds the row: ours queues behind it (300 ms by PostgreSQL's clock).
    const holder = dataSource.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    await holder.query('SELECT 1 FROM activecampaign_rate_slots WHERE account = $1 FOR UPDATE', [fake.apiUrl]);
    const from = fake.requests.length;
    const pending = client.apply(account(), updateFor('expired', { email: 'queued@escola.example' }), budget());
    try {
      await eventually(
        async () => {
          const [waiting] = await dataSource.query(
            `SELECT EXTRACT(EPOCH FROM clock_timestamp() - query_start) * 1000 AS ms FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO activecampaign_rate_slots%' AND datname = current_database()`,
          );
          expect(Number(waiting?.ms ?? 0)).toBeGreaterThanOrEqual(300);
        },
        { intervalMs: 20 },
      );
    } finally {
      await holder.commitTransaction();
      await holder.release();
    }
    expect((await pending).kind).toBe('applied');
    // The slot it queued for is the one after the booked ones (or later): the fake must not see it sooner.
    expect(fake.requests[from]!.at).toBeGreaterThanOrEqual(Math.floor(Number(slotAt)));
    expect(fake.requests.filter((r) => r.status === 429)).toEqual([]);
  });

  it('honours 429 Retry-After for the whole account', async () => {
    fake.failNext(1, { status: 429, headers: { 'retry-after': '3' }, body: { message: 'Too Many Requests' } }, 'GET', '/api/3/fields');
    const outcome = await client.apply(account(), updateFor('expired'), budget());
    expect(decisionOf(outcome)).toEqual({ outcome: 'retry', reason: 'rate_limited', retryAfterMs: 3000 });
    // Every endpoint of the account waits: the next slot is about 3 s away.
    const slot = await limiter.reserve(fake.apiUrl, 10_000);
    expect(slot).toEqual({ reserved: true, sendAt: expect.any(Number), sendBy: expect.any(Number) });
    expect(slot.reserved && slot.sendAt - limiter.now()).toBeGreaterThan(2500);
  });

  it('disables on a refused token, with AC’s text and never the token', async () => {
    const wrong = 'ac-wrong-token-0000000000000000000000000000';
    const outcome = await client.apply({ apiUrl: fake.apiUrl, apiToken: wrong }, updateFor('expired'), budget());
    expect(outcome).toMatchObject({
      kind: 'failed',
      decision: { outcome: 'disable_endpoint', reason: 'unauthorized' },
      failedCall: { method: 'GET', path: '/api/3/fields', status: 403, errorText: 'The API token is not valid for this account.' },
    });
    expect(JSON.stringify(outcome)).not.toContain(wrong);
    const missing = await client.apply({ apiUrl: fake.apiUrl, apiToken: '' }, updateFor('expired'), budget());
    expect(missing).toMatchObject({ decision: { outcome: 'disable_endpoint', reason: 'unauthorized' }, failedCall: { status: 401 } });
  });

  it('fails a message AC refuses (422) for good, with its error text; retries a 500', async () => {
    const refused = await client.apply(account(), updateFor('expired', { email: 'ana@escola.invalid' }), budget());
    expect(refused).toMatchObject({
      kind: 'failed',
      decision: { outcome: 'failed_permanently', reason: 'rejected' },
      failedCall: { path: '/api/3/contact/sync', status: 422, errorText: 'Email address is invalid: ana@escola.invalid (/data/attributes/email) [email_invalid]' },
    });
    fake.failNext(1, { status: 500, body: { message: 'boom' } }, 'POST', '/api/3/contactTags');
    const broken = await client.apply(account(), updateFor('expired', { email: 'bia@escola.example' }), budget());
    expect(decisionOf(broken)).toEqual({ outcome: 'retry', reason: 'server_error' });
    // The contact was synced before the failing call; the retry completes the tags.
    expect((await client.apply(account(), updateFor('expired', { email: 'bia@escola.example' }), budget())).kind).toBe('applied');
    expect(fake.contact('bia@escola.example')?.tags).toEqual(['gancho:expired', 'gancho:cart_recovery']);
  });

  it('records the status as an event when event tracking is on, and fails the message for good on a wrong key', async () => {
    const data = { ...examplePayload(eventTypeOf('link_inactive')).data, purchase_id: 'pur_evt_1', student: { name: 'Rita Lee', email: 'rita@escola.example' } };
    const update = activeCampaignUpdate(data, defaultActiveCampaignMapping());
    const event = (key: string) => ({ url: fake.eventsUrl, form: activeCampaignEventForm(data, { actid: '778899', eventKey: key }), eventKey: key });
    expect((await client.apply(account(), update, budget(), event('event-key-0123456789abcdef'))).kind).toBe('applied');
    expect(fake.events).toEqual([{ email: 'rita@escola.example', event: 'link_inactive', eventdata: 'pur_evt_1', at: expect.any(Number) }]);
    const eventCall = fake.requests.at(-1);
    expect(eventCall).toMatchObject({ method: 'POST', path: '/event', status: 200, token: undefined });

    const wrong = await client.apply(account(), update, budget(), event('wrong-event-key-000000000000'));
    expect(wrong).toMatchObject({
      kind: 'failed',
      decision: { outcome: 'failed_permanently', reason: 'rejected' },
      failedCall: { path: '/event', status: 400, errorText: 'event not recorded: check the event-tracking id and key, and that tracking is on' },
    });
    expect(JSON.stringify(wrong)).not.toContain('wrong-event-key');
    expect(fake.events).toHaveLength(1);
  });

  it('gives the message back, sending nothing, when the account is booked up', async () => {
    await limiter.pause(fake.apiUrl, 30_000);
    const outcome = await client.apply(account(), updateFor('expired'), { startCallsBy: Date.now() + 5000, maxFirstWaitMs: 2000 });
    expect(outcome.kind).toBe('postpone');
    expect(outcome.kind === 'postpone' && outcome.delayMs).toBeGreaterThan(25_000);
    expect(fake.requests).toEqual([]);
    await dataSource.query('DELETE FROM activecampaign_rate_slots');
  });
});
