import { randomBytes, randomUUID } from 'node:crypto';
import { messageIdFor } from '@gancho/delivery-domain';
import { createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { DataSource } from 'typeorm';
import { DeliveryRetention } from '../retention/delivery-retention';
import { SubscriptionsStandIn, TestReceiver, startDelivery, testTopics } from '../testing/delivery-test-kit';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const newPurchaseId = () => `pur_${randomBytes(16).toString('hex')}`;
const day = 24 * 3600_000;

// Scenarios, with the real delivery service, PostgreSQL, the broker and receivers on loopback:
// - every status event of the partner is listed, those no endpoint takes too, newest first, with the webhook's
//   data and one delivery state per endpoint it went to;
// - filters: type, purchase, time range; events older than the retention window are not listed, and the
//   retention scan deletes them;
// - pagination: walking pages of 2 while new events arrive gives every event that was there at the start exactly
//   once, in order, and nothing twice;
// - undelivered_to: after a failing receiver, the events it takes that it did not get; resending one and a
//   receiver that works again take it off the list; an event that came while the endpoint was disabled is on it;
// - tenant isolation: another partner's events never show (list, filter, cursor, by id, undelivered_to);
// - bad input: problem+json with a stable code, never a 500.
describe('GET /events (the events API)', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  const working = new TestReceiver();
  const failing = new TestReceiver();
  const other = new TestReceiver();
  const down = new TestReceiver();
  const partner = uniqueName('ptn_events');
  const otherPartner = uniqueName('ptn_other');
  let key: string;
  let otherKey: string;
  let workingEndpoint: string;
  let failingEndpoint: string;
  let otherEndpoint: string;
  let clock = Date.now() - 3600_000;
  /** Distinct, increasing occurrence times, so the expected order is known. */
  const nextTime = () => new Date((clock += 1000)).toISOString();

  const get = async (path: string, as: string = key): Promise<{ status: number; type: string | null; body: Json }> => {
    const response = await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${as}` } });
    return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
  };
  const list = async (query: string, as: string = key): Promise<Json> => {
    const answer = await get(`/events${query}`, as);
    expect(answer.status).toBe(200);
    return answer.body;
  };
  const idsOf = (page: Json): string[] => page.items.map((e: Json) => e.event_id);
  const publish = (status: Parameters<SubscriptionsStandIn['publishStatus']>[1], purchaseId = newPurchaseId(), sequence = 1, partnerId = partner) =>
    subscriptions.publishStatus(partnerId, status, { purchase_id: purchaseId, occurred_at: nextTime(), sequence });

  beforeAll(async () => {
    database = await createTestDatabase('delivery_events');
    await subscriptions.createTopics();
    await Promise.all([working.start(), failing.start(), other.start(), down.start()]);
    service = await startDelivery(database.url, topics, [working.host, failing.host, other.host, down.host], { RETRY_SCHEDULE: '0s,1s', PARTNER_API_RATE_LIMIT_PER_SECOND: '0' });
    [key, otherKey] = await Promise.all([subscriptions.issueApiKey(partner), subscriptions.issueApiKey(otherPartner)]);
    const [w, f, o] = await Promise.all([
      subscriptions.putEndpoint({ partnerId: partner, url: working.url(), eventTypes: ['purchase.logged', 'purchase.waiting_payment'] }),
      subscriptions.putEndpoint({ partnerId: partner, url: failing.url(), eventTypes: ['purchase.logged'] }),
      subscriptions.putEndpoint({ partnerId: otherPartner, url: other.url() }),
    ]);
    [workingEndpoint, failingEndpoint, otherEndpoint] = [w.endpointId, f.endpointId, o.endpointId];
    working.secrets = w.secrets;
    failing.secrets = f.secrets;
    other.secrets = o.secrets;
    failing.respond = () => ({ status: 503 });
    await subscriptions.routedBy(service.url, partner, [workingEndpoint, failingEndpoint]);
    await subscriptions.routedBy(service.url, otherPartner, [otherEndpoint]);
  });
  afterAll(async () => {
    await service?.close();
    await subscriptions.close();
    await Promise.all([working.stop(), failing.stop(), other.stop(), down.stop()]);
    await database?.drop();
  });

  describe('listing and filters', () => {
    const purchase = newPurchaseId();
    let logged: string;
    let waitingPayment: string;
    let madeEffective: string;

    beforeAll(async () => {
      logged = (await publish('logged', purchase, 1)).eventId;
      waitingPayment = (await publish('waiting_payment', purchase, 2)).eventId;
      // No endpoint of the partner takes made_effective: no message, but the event is there.
      madeEffective = (await publish('made_effective', purchase, 3)).eventId;
      await eventually(async () => {
        const event = (await list(`?purchase_id=${purchase}`)).items.find((e: Json) => e.event_id === logged);
        expect(event?.deliveries.map((d: Json) => d.status).sort()).toEqual(['exhausted', 'succeeded']);
      });
    });

    it('lists every status event of the purchase, newest first, with the webhook data and the delivery state per endpoint', async () => {
      const page = await list(`?purchase_id=${purchase}`);
      expect(idsOf(page)).toEqual([madeEffective, waitingPayment, logged]);
      expect(page.next_cursor).toBeNull();
      const [effective, payment, first] = page.items;
      expect(effective).toMatchObject({ type: 'purchase.made_effective', purchase_id: purchase, sequence: 3, deliveries: [] });
      expect(payment.deliveries).toEqual([expect.objectContaining({ endpoint_id: workingEndpoint, message_id: messageIdFor(waitingPayment, workingEndpoint), status: 'succeeded' })]);
      expect(first.deliveries).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ endpoint_id: workingEndpoint, status: 'succeeded', attempt_count: 1, last_status_code: 204 }),
          expect.objectContaining({ endpoint_id: failingEndpoint, message_id: messageIdFor(logged, failingEndpoint), status: 'exhausted', attempt_count: 2, last_status_code: 503 }),
        ]),
      );
      // The data is the webhook's data, byte for byte what the endpoint received.
      const received = working.received.find((w) => w.headers['webhook-id'] === messageIdFor(logged, workingEndpoint));
      expect(first.data).toEqual(JSON.parse(received?.body ?? '{}').data);
      expect(first.occurred_at).toBe(first.data.occurred_at);
    });

    it('filters by type and time range, and answers one event by id', async () => {
      expect(idsOf(await list(`?purchase_id=${purchase}&event_type=purchase.waiting_payment`))).toEqual([waitingPayment]);
      const { body: one } = await get(`/events/${waitingPayment}`);
      const at = Date.parse(one.occurred_at);
      expect(idsOf(await list(`?since=${new Date(at).toISOString()}&until=${new Date(at + 1).toISOString()}`))).toEqual([waitingPayment]);
      expect(idsOf(await list(`?purchase_id=${purchase}&until=${new Date(at).toISOString()}`))).toEqual([logged]);
      expect(one).toMatchObject({ event_id: waitingPayment, type: 'purchase.waiting_payment', purchase_id: purchase });
    });

    it('lists only the retention window, and the retention scan deletes what is older', async () => {
      const old = await subscriptions.publishStatus(partner, 'logged', { purchase_id: newPurchaseId(), occurred_at: new Date(Date.now() - 31 * day).toISOString() });
      // It is delivered (it is in the message log), but 31 days old: outside the events API's 30 days.
      await eventually(async () => expect((await get(`/messages/${messageIdFor(old.eventId, workingEndpoint)}`)).status).toBe(200));
      expect((await get(`/events/${old.eventId}`)).status).toBe(404);
      expect(idsOf(await list(`?since=${new Date(Date.now() - 40 * day).toISOString()}`))).not.toContain(old.eventId);
      const count = async () => Number((await service.app.get(DataSource).query('SELECT count(*) FROM status_events'))[0].count);
      const before = await count();
      expect(before).toBeGreaterThan(0);
      const purged = await service.app.get(DeliveryRetention).run(new Date(Date.now() + 31 * day));
      expect(purged['delivery.status_events']).toBe(before);
      expect(await count()).toBe(0);
    });
  });

  describe('pagination, undelivered_to and isolation', () => {
    const purchase = newPurchaseId();
    const published: string[] = [];

    beforeAll(async () => {
      for (let i = 1; i <= 7; i++) published.push((await publish(i % 2 === 0 ? 'waiting_payment' : 'logged', purchase, i)).eventId);
      await eventually(async () => expect(idsOf(await list(`?purchase_id=${purchase}`))).toHaveLength(7));
    });

    it('walks pages in a stable order while new events arrive: every event that was there once, none twice', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let arrived = 0;
      do {
        const page: Json = await list(`?purchase_id=${purchase}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...idsOf(page));
        cursor = page.next_cursor;
        // A new event of the same purchase between two pages: newer than the walk's start, so above the cursor.
        if (arrived < 3) {
          const fresh = await publish('logged', purchase, 100 + arrived);
          arrived++;
          await eventually(async () => expect((await get(`/events/${fresh.eventId}`)).status).toBe(200));
        }
      } while (cursor);
      expect(seen).toEqual([...published].reverse());
      expect(new Set(seen).size).toBe(seen.length);
      expect(idsOf(await list(`?purchase_id=${purchase}`))).toHaveLength(10);
    });

    it('lists what a failing endpoint did not receive; a resend takes the event off the list', async () => {
      // An endpoint of its own, on a type no other test sends: its failures stay under the circuit breaker's threshold,
      // so every message to it ends exhausted (two attempts) and nothing else is retried behind the test's back.
      // An event of its type from before it existed is none of its business.
      const downPurchase = newPurchaseId();
      const earlier = (await publish('basic_info_incomplete', downPurchase, 1)).eventId;
      await eventually(async () => expect((await get(`/events/${earlier}`)).status).toBe(200));
      const { endpointId: downEndpoint, secrets } = await subscriptions.putEndpoint({ partnerId: partner, url: down.url(), eventTypes: ['purchase.basic_info_incomplete'] });
      down.secrets = secrets;
      down.respond = () => ({ status: 503 });
      await subscriptions.routedBy(service.url, partner, [downEndpoint]);
      const first = (await publish('basic_info_incomplete', downPurchase, 2)).eventId;
      await publish('logged', downPurchase, 3);
      const second = (await publish('basic_info_incomplete', downPurchase, 4)).eventId;
      const undelivered = async () => list(`?undelivered_to=${downEndpoint}&limit=200`);
      await eventually(async () => {
        const page = await undelivered();
        // Only the types the endpoint takes (not the logged one), each with its exhausted message to it.
        expect(idsOf(page)).toEqual([second, first]);
        for (const event of page.items) expect(event.deliveries).toEqual([expect.objectContaining({ endpoint_id: downEndpoint, status: 'exhausted', attempt_count: 2, last_status_code: 503 })]);
      });
      expect(idsOf(await list(`?purchase_id=${downPurchase}&undelivered_to=${workingEndpoint}`))).toEqual([]);

      // The partner's server is back: it resends the first undelivered event's message, which leaves the list.
      down.respond = () => ({ status: 200 });
      const resend = await fetch(`${service.url}/messages/${messageIdFor(first, downEndpoint)}/resend`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
      expect(resend.status).toBe(202);
      await eventually(async () => expect(idsOf(await undelivered())).toEqual([second]));
      expect(down.ids().at(-1)).toBe(messageIdFor(first, downEndpoint));
      expect(down.verificationFailures).toEqual([]);
    });

    it('counts an event that came while the endpoint was disabled as undelivered to it', async () => {
      const disabledPurchase = newPurchaseId();
      await subscriptions.putEndpoint({ partnerId: partner, url: failing.url(), endpointId: failingEndpoint, secrets: failing.secrets, eventTypes: ['purchase.logged'], enabled: false });
      await eventually(async () => expect((await get(`/endpoints/${failingEndpoint}/stats`)).body.enabled).toBe(false));
      const whileDisabled = (await publish('logged', disabledPurchase)).eventId;
      await eventually(async () => {
        const page = await list(`?purchase_id=${disabledPurchase}&undelivered_to=${failingEndpoint}`);
        expect(idsOf(page)).toEqual([whileDisabled]);
        // Not routed to it: only the working endpoint's delivery.
        expect(page.items[0].deliveries.map((d: Json) => d.endpoint_id)).toEqual([workingEndpoint]);
      });
    });

    it("never shows another partner's events: not listed, not by purchase, id, cursor or endpoint", async () => {
      const theirPurchase = newPurchaseId();
      const theirs = (await publish('logged', theirPurchase, 1, otherPartner)).eventId;
      await eventually(async () => expect(idsOf(await list(`?purchase_id=${theirPurchase}`, otherKey))).toEqual([theirs]));
      expect(idsOf(await list('?limit=200'))).not.toContain(theirs);
      expect(idsOf(await list(`?purchase_id=${theirPurchase}`))).toEqual([]);
      const byId = await get(`/events/${theirs}`);
      expect({ status: byId.status, code: byId.body.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
      const undelivered = await get(`/events?undelivered_to=${otherEndpoint}`);
      expect({ status: undelivered.status, code: undelivered.body.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
      // A cursor made from their event only positions the walk: what follows is still only ours.
      const { body: theirEvent } = await get(`/events/${theirs}`, otherKey);
      const cursor = Buffer.from(`${new Date(Date.parse(theirEvent.occurred_at) + 1).toISOString()}|${theirs}`).toString('base64url');
      const page = await list(`?cursor=${cursor}&limit=200`);
      expect(idsOf(page)).not.toContain(theirs);
      expect(page.items.every((e: Json) => e.data.partner_id === partner)).toBe(true);
      // And they do not see ours.
      expect((await list('?limit=200', otherKey)).items.every((e: Json) => e.data.partner_id === otherPartner)).toBe(true);
    });
  });

  it('shows the message of an endpoint added before the event was consumed again (a redelivery routes it anew)', async () => {
    const purchase = newPurchaseId();
    const first = await subscriptions.publishStatus(partner, 'guarantor_needed', { purchase_id: purchase, occurred_at: nextTime() });
    await eventually(async () => expect((await get(`/events/${first.eventId}`)).body.deliveries).toEqual([]));
    const late = await subscriptions.putEndpoint({ partnerId: partner, url: working.url('/late'), eventTypes: ['purchase.guarantor_needed'], secrets: working.secrets });
    await subscriptions.routedBy(service.url, partner, [late.endpointId]);
    // The same event again (the relay publishes at least once): a message for the new endpoint, linked to the event.
    await subscriptions.publishStatus(partner, 'guarantor_needed', first.data, first.eventId);
    await eventually(async () =>
      expect((await get(`/events/${first.eventId}`)).body.deliveries).toEqual([expect.objectContaining({ endpoint_id: late.endpointId, message_id: messageIdFor(first.eventId, late.endpointId), status: 'succeeded' })]),
    );
    expect(idsOf(await list(`?purchase_id=${purchase}`))).toEqual([first.eventId]);
  });

  it.each([
    ['an unknown event type', '?event_type=purchase.nope', 'event_type'],
    ['a malformed since', '?since=yesterday', 'since'],
    ['since after until', '?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', 'since'],
    ['a limit of 0', '?limit=0', 'limit'],
    ['a limit over 200', '?limit=201', 'limit'],
    ['an unknown parameter', '?status=failed', ''],
    ['a purchase id with SQL in it', `?purchase_id=${encodeURIComponent("pur_1' OR '1'='1")}`, 'purchase_id'],
    ['a cursor that is not base64 of ours', '?cursor=not-a-cursor', 'cursor'],
    ['a cursor with a bad date', `?cursor=${Buffer.from(`2026-13-45T00:00:00Z|${randomUUID()}`).toString('base64url')}`, 'cursor'],
    ['a cursor with a bad event id', `?cursor=${Buffer.from(`2026-01-01T00:00:00.000Z|1); DROP TABLE status_events; --`).toString('base64url')}`, 'cursor'],
    ['a cursor too long', `?cursor=${'a'.repeat(201)}`, 'cursor'],
  ])('answers %s with 400 VALIDATION_FAILED problem+json', async (_, query, path) => {
    const answer = await get(`/events${query}`);
    expect({ status: answer.status, code: answer.body.code, type: answer.type }).toEqual({ status: 400, code: 'VALIDATION_FAILED', type: expect.stringContaining('application/problem+json') });
    if (path) expect(answer.body.errors.map((e: Json) => e.path)).toContain(path);
  });

  it.each([
    ['an event id that is not a uuid', '/events/not-a-uuid'],
    ['an event that does not exist', `/events/${randomUUID()}`],
    ['an endpoint that does not exist in undelivered_to', '/events?undelivered_to=ep_nope'],
  ])('answers %s with 404 NOT_FOUND', async (_, path) => {
    const answer = await get(path);
    expect({ status: answer.status, code: answer.body.code, type: answer.type }).toEqual({ status: 404, code: 'NOT_FOUND', type: expect.stringContaining('application/problem+json') });
  });

  it('refuses a request without a valid API key', async () => {
    const answer = await get('/events', 'gk_live_not_a_key');
    expect({ status: answer.status, code: answer.body.code }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
  });
});
