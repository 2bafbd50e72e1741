import { Webhook as SvixWebhook } from 'svix';
import { Webhook } from 'standardwebhooks';
import { messageIdFor } from '@gancho/delivery-domain';
import { type IncomingMessage } from '@gancho/messaging';
import { createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { readDeliveryTopics, routesVersion, SubscriptionsStandIn, TestReceiver, startDelivery, testTopics } from './testing/delivery-test-kit';

// Scenarios, with the real PostgreSQL, the real broker and real HTTP receivers on loopback:
// - fan-out: each status event reaches every enabled endpoint of its partner whose filter matches, and no other;
// - signatures verify with `standardwebhooks` and `svix`; during a rotation both secrets verify;
// - a status event consumed twice is delivered once; retries keep the same webhook-id;
// - 500s are retried on the schedule and logged; 410 fails the message and reports the endpoint;
// - an endpoint that hangs does not hold a healthy one back;
// - the partner API: message log, attempts, resend, recover, test send, stats; other partners get 404;
// - every attempt is published to the attempts topic;
// - custom headers go out in the clear from both shapes of endpoint state: sealed, and plain (published before sealing).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (response: Promise<Response>): Promise<any> => (await response).json();

describe('delivery service', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  const receivers: TestReceiver[] = [];
  let attempts: IncomingMessage[] = [];
  let healthReports: IncomingMessage[] = [];
  let stopReaders: () => Promise<void>;

  let pool: TestReceiver[];

  beforeAll(async () => {
    database = await createTestDatabase('delivery');
    await subscriptions.createTopics();
    pool = await Promise.all(Array.from({ length: 13 }, () => new TestReceiver().start()));
    receivers.push(...pool);
    service = await startDelivery(
      database.url,
      topics,
      pool.map((r) => r.host),
      { RETRY_SCHEDULE: '0s,1s,1s', REQUEST_TIMEOUT_MS: '30000' },
    );
    const readers = await readDeliveryTopics(subscriptions, topics);
    attempts = readers.attempts;
    healthReports = readers.healthReports;
    stopReaders = readers.stop;
  });
  afterAll(async () => {
    await stopReaders?.();
    await service?.close();
    await subscriptions.close();
    await Promise.all(receivers.map((r) => r.stop()));
    await database?.drop();
  });

  /** Endpoints are published after the service started: wait until it routes to them. */
  const settle = (partnerId: string, ...endpoints: { endpointId: string }[]) =>
    subscriptions.routedBy(
      service.url,
      partnerId,
      endpoints.map((e) => e.endpointId),
    );

  it('fans each event out to the matching enabled endpoints of its partner only', async () => {
    const [all, madeEffective, disabled, other] = pool.slice(0, 4) as [TestReceiver, TestReceiver, TestReceiver, TestReceiver];
    const partner = uniqueName('ptn');
    const otherPartner = uniqueName('ptn');
    const epAll = await subscriptions.putEndpoint({ partnerId: partner, url: all.url(), eventTypes: ['purchase.*'], headers: { 'x-school': 'azul' } });
    const epEffective = await subscriptions.putEndpoint({ partnerId: partner, url: madeEffective.url(), eventTypes: ['purchase.made_effective'] });
    const epOff = await subscriptions.putEndpoint({ partnerId: partner, url: disabled.url(), enabled: false });
    const epOther = await subscriptions.putEndpoint({ partnerId: otherPartner, url: other.url() });
    all.secrets = epAll.secrets;
    madeEffective.secrets = epEffective.secrets;
    disabled.secrets = epOff.secrets;
    other.secrets = epOther.secrets;
    await settle(partner, epAll, epEffective, epOff);
    await settle(otherPartner, epOther);

    const events: Awaited<ReturnType<SubscriptionsStandIn['publishStatus']>>[] = [];
    for (const status of ['shopping_cart_created', 'waiting_payment', 'made_effective'] as const) events.push(await subscriptions.publishStatus(partner, status));
    await subscriptions.publishStatus(otherPartner, 'made_effective');

    await eventually(() => {
      expect(all.received).toHaveLength(3);
      expect(madeEffective.received).toHaveLength(1);
      expect(other.received).toHaveLength(1);
    });
    expect(new Set(all.ids())).toEqual(new Set(events.map((e) => messageIdFor(e.eventId, epAll.endpointId))));
    expect(madeEffective.ids()).toEqual([messageIdFor(events[2]!.eventId, epEffective.endpointId)]);
    for (const r of [all, madeEffective, other]) expect(r.verificationFailures).toEqual([]);

    const first = all.received.find((w) => w.headers['webhook-id'] === messageIdFor(events[0]!.eventId, epAll.endpointId))!;
    expect(JSON.parse(first.body)).toEqual({ type: 'purchase.shopping_cart_created', timestamp: events[0]!.data.occurred_at, data: events[0]!.data });
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers['user-agent']).toMatch(/Gancho/);
    expect(first.headers['x-school']).toBe('azul');
    // The svix verifier accepts the same request.
    expect(() => new SvixWebhook(epAll.secrets[0]!).verify(first.body, first.headers as Record<string, string>)).not.toThrow();

    // The disabled endpoint got nothing: enabled again, it receives a later sentinel event, and only that.
    await subscriptions.putEndpoint({ partnerId: partner, url: disabled.url(), endpointId: epOff.endpointId, secrets: epOff.secrets });
    await routesVersion(service, epOff.endpointId, 2);
    const sentinel = await subscriptions.publishStatus(partner, 'analysis');
    await eventually(() => expect(disabled.ids()).toContain(messageIdFor(sentinel.eventId, epOff.endpointId)));
    expect(disabled.ids()).toEqual([messageIdFor(sentinel.eventId, epOff.endpointId)]);
  });

  it('sends the custom headers of an endpoint state whether they come sealed or, from an older state, plain', async () => {
    const [sealedTarget, plainTarget] = [pool[11]!, pool[12]!];
    const partner = uniqueName('ptn');
    const credential = { Authorization: 'Bearer s3cr3t-token-value', 'X-School': 'azul' };
    const sealed = await subscriptions.putEndpoint({ partnerId: partner, url: sealedTarget.url(), headers: credential });
    const plain = await subscriptions.putEndpoint({ partnerId: partner, url: plainTarget.url(), headers: credential, headersShape: 'plain' });
    sealedTarget.secrets = sealed.secrets;
    plainTarget.secrets = plain.secrets;
    await settle(partner, sealed, plain);
    await subscriptions.publishStatus(partner, 'made_effective');
    await eventually(() => {
      expect(sealedTarget.received).toHaveLength(1);
      expect(plainTarget.received).toHaveLength(1);
    });
    for (const target of [sealedTarget, plainTarget]) {
      expect(target.received[0]!.headers).toMatchObject({ authorization: 'Bearer s3cr3t-token-value', 'x-school': 'azul' });
      expect(target.verificationFailures).toEqual([]);
    }
  });

  it('delivers a status event consumed twice only once', async () => {
    const target = pool[4]!;
    const partner = uniqueName('ptn');
    const ep = await subscriptions.putEndpoint({ partnerId: partner, url: target.url() });
    target.secrets = ep.secrets;
    await settle(partner, ep);
    const { eventId } = await subscriptions.publishStatus(partner, 'analysis');
    await subscriptions.publishStatus(partner, 'analysis', {}, eventId);
    // A later event of the same purchase (same partition, consumed after the copy) proves the copy was handled.
    const { eventId: sentinel } = await subscriptions.publishStatus(partner, 'approved');
    await eventually(() => expect(target.ids()).toContain(messageIdFor(sentinel, ep.endpointId)));
    expect(target.ids().sort()).toEqual([messageIdFor(eventId, ep.endpointId), messageIdFor(sentinel, ep.endpointId)].sort());
  });

  it('signs with both secrets during a rotation, and either verifies', async () => {
    const target = pool[5]!;
    const partner = uniqueName('ptn');
    const ep = await subscriptions.putEndpoint({ partnerId: partner, url: target.url(), secrets: ['whsec_' + Buffer.alloc(32, 1).toString('base64'), 'whsec_' + Buffer.alloc(32, 2).toString('base64')] });
    target.secrets = ep.secrets;
    await settle(partner, ep);
    await subscriptions.publishStatus(partner, 'approved');
    await eventually(() => expect(target.received).toHaveLength(1));
    const webhook = target.received[0]!;
    expect(String(webhook.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of ep.secrets) expect(() => new Webhook(secret).verify(webhook.body, webhook.headers as Record<string, string>)).not.toThrow();
  });

  it('retries a failing endpoint on the schedule with the same webhook-id, logging every attempt', async () => {
    const target = pool[6]!;
    let calls = 0;
    target.respond = () => (++calls <= 2 ? { status: 500, body: 'database down' } : { status: 200, body: 'ok' });
    const partner = uniqueName('ptn');
    const ep = await subscriptions.putEndpoint({ partnerId: partner, url: target.url() });
    target.secrets = ep.secrets;
    const key = await subscriptions.issueApiKey(partner);
    await settle(partner, ep);
    const { eventId } = await subscriptions.publishStatus(partner, 'waiting_signature');
    const messageId = messageIdFor(eventId, ep.endpointId);
    await eventually(() => expect(target.received).toHaveLength(3), { timeoutMs: 10_000 });
    expect(new Set(target.ids())).toEqual(new Set([messageId]));
    expect(target.received[1]!.at - target.received[0]!.at).toBeGreaterThanOrEqual(850);

    // The receiver has the third request before delivery has recorded its answer: wait for the outcome.
    const message = await eventually(async () => {
      const found = await json(fetch(`${service.url}/messages/${messageId}`, { headers: { authorization: `Bearer ${key}` } }));
      expect(found).toMatchObject({ message_id: messageId, status: 'succeeded', attempt_count: 3, event_type: 'purchase.waiting_signature' });
      return found;
    });
    expect(message.attempts.map((a: { status_code: number; outcome: string }) => [a.status_code, a.outcome])).toEqual([
      [500, 'scheduled'],
      [500, 'scheduled'],
      [200, 'succeeded'],
    ]);
    expect(message.attempts[0].response_snippet).toBe('database down');
    await eventually(() => expect(attempts.filter((a) => a.key === messageId)).toHaveLength(3));
    const published = attempts.filter((a) => a.key === messageId).map((a) => JSON.parse(a.value.toString()));
    expect(published.map((a) => a.attempt_number).sort()).toEqual([1, 2, 3]);
    expect(attempts.find((a) => a.key === messageId)?.headers).toMatchObject({ ce_type: 'delivery.attempt', ce_source: '/gancho/delivery', ce_specversion: '1.0' });
  });

  it('fails the message and reports the endpoint on 410 Gone', async () => {
    const target = pool[7]!;
    target.respond = () => ({ status: 410 });
    const partner = uniqueName('ptn');
    const ep = await subscriptions.putEndpoint({ partnerId: partner, url: target.url() });
    target.secrets = ep.secrets;
    const key = await subscriptions.issueApiKey(partner);
    await settle(partner, ep);
    const { eventId } = await subscriptions.publishStatus(partner, 'denied');
    await eventually(() => expect(healthReports.filter((m) => m.key === ep.endpointId)).toHaveLength(1));
    const report = JSON.parse(healthReports.find((m) => m.key === ep.endpointId)!.value.toString());
    expect(report).toMatchObject({ endpoint_id: ep.endpointId, partner_id: partner, reason: 'gone', detail: expect.stringContaining('410') });
    await eventually(async () => {
      const message = await json(fetch(`${service.url}/messages/${messageIdFor(eventId, ep.endpointId)}`, { headers: { authorization: `Bearer ${key}` } }));
      expect(message).toMatchObject({ status: 'failed', attempt_count: 1 });
    });
    expect(target.received).toHaveLength(1);
  });

  it('delivers to a healthy endpoint while another endpoint of the partner hangs', async () => {
    const [hanging, healthy] = [pool[8]!, pool[9]!];
    // Unanswered until the healthy endpoint has everything (the request timeout is 30 s): held behind the hang,
    // it would get nothing in time.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    hanging.respond = () => released.then(() => ({ status: 204 }));
    const partner = uniqueName('ptn');
    const epHanging = await subscriptions.putEndpoint({ partnerId: partner, url: hanging.url() });
    const epHealthy = await subscriptions.putEndpoint({ partnerId: partner, url: healthy.url() });
    hanging.secrets = epHanging.secrets;
    healthy.secrets = epHealthy.secrets;
    await settle(partner, epHanging, epHealthy);
    const sentAt = Date.now();
    await Promise.all(Array.from({ length: 20 }, (_, i) => subscriptions.publishStatus(partner, 'logged', { purchase_id: `pur_${i.toString(16).padStart(32, '0')}` })));
    await eventually(() => expect(healthy.received).toHaveLength(20), { timeoutMs: 20_000 });
    process.stdout.write(`head-of-line: 20 deliveries to the healthy endpoint done ${Math.max(...healthy.received.map((w) => w.at)) - sentAt} ms after publishing, beside an endpoint that does not answer\n`);
    // The hanging endpoint holds at most its own share of connections.
    expect(hanging.received.length).toBeLessThanOrEqual(8);
    release();
  });

  describe('partner API', () => {
    let partner: string;
    let key: string;
    let otherKey: string;
    let endpointId: string;
    let target: TestReceiver;
    let messageId: string;

    beforeAll(async () => {
      target = pool[10]!;
      partner = uniqueName('ptn');
      key = await subscriptions.issueApiKey(partner);
      otherKey = await subscriptions.issueApiKey(uniqueName('ptn'));
      const ep = await subscriptions.putEndpoint({ partnerId: partner, url: target.url() });
      endpointId = ep.endpointId;
      target.secrets = ep.secrets;
      target.respond = () => ({ status: 503, headers: { 'retry-after': '1' } });
      await settle(partner, ep);
      const { eventId } = await subscriptions.publishStatus(partner, 'waiting_payment');
      messageId = messageIdFor(eventId, endpointId);
      await eventually(() => expect(target.received.length).toBeGreaterThanOrEqual(3), { timeoutMs: 10_000 });
    });

    const call = (path: string, options: { method?: string; body?: unknown; as?: string } = {}) =>
      fetch(`${service.url}${path}`, {
        method: options.method ?? 'GET',
        headers: { authorization: `Bearer ${options.as ?? key}`, ...(options.body ? { 'content-type': 'application/json' } : {}) },
        ...(options.body ? { body: JSON.stringify(options.body) } : {}),
      });

    it('lists messages with filters and shows an exhausted one with its attempts', async () => {
      await eventually(async () => expect((await json(call(`/messages/${messageId}`))).status).toBe('exhausted'), { timeoutMs: 10_000 });
      const list = await json(call(`/messages?endpoint_id=${endpointId}&status=exhausted`));
      expect(list.items.map((m: { message_id: string }) => m.message_id)).toEqual([messageId]);
      expect((await json(call('/messages?status=succeeded'))).items).toEqual([]);
      const message = await json(call(`/messages/${messageId}`));
      expect(message.attempts).toHaveLength(3);
      expect(message.attempts.every((a: { status_code: number }) => a.status_code === 503)).toBe(true);
      expect(message.payload.type).toBe('purchase.waiting_payment');
    });

    it('resends a message and recovers a window, with the same webhook-id', async () => {
      target.respond = () => ({ status: 200 });
      const before = target.received.length;
      expect((await call(`/messages/${messageId}/resend`, { method: 'POST' })).status).toBe(202);
      await eventually(() => expect(target.received.length).toBe(before + 1));
      expect(target.ids().at(-1)).toBe(messageId);
      await eventually(async () => expect((await json(call(`/messages/${messageId}`))).status).toBe('succeeded'));

      target.respond = () => ({ status: 500 });
      const { eventId } = await subscriptions.publishStatus(partner, 'expired');
      const failing = messageIdFor(eventId, endpointId);
      await eventually(async () => expect((await json(call(`/messages/${failing}`))).status).toBe('exhausted'), { timeoutMs: 10_000 });
      target.respond = () => ({ status: 200 });
      const recovered = await json(call(`/endpoints/${endpointId}/recover`, { method: 'POST', body: { since: new Date(Date.now() - 60_000).toISOString() } }));
      expect(recovered.resent).toBe(1);
      await eventually(async () => expect((await json(call(`/messages/${failing}`))).status).toBe('succeeded'));
    });

    it('sends a test event and reports endpoint stats', async () => {
      const sent = await json(call(`/endpoints/${endpointId}/test`, { method: 'POST', body: { event_type: 'purchase.made_effective' } }));
      await eventually(() => expect(target.ids()).toContain(sent.message_id));
      const body = JSON.parse(target.received.find((w) => w.headers['webhook-id'] === sent.message_id)!.body);
      expect(body).toMatchObject({ type: 'purchase.made_effective', data: { partner_id: partner } });
      const stats = await json(call(`/endpoints/${endpointId}/stats`));
      expect(stats).toMatchObject({ endpoint_id: endpointId, enabled: true });
      expect(stats.attempts).toBeGreaterThanOrEqual(8);
      expect(stats.success_rate).toBeGreaterThan(0);
      expect(stats.success_rate).toBeLessThan(1);
      expect(stats.latency_ms.p50).toEqual(expect.any(Number));
    });

    it("answers 404 for another partner's messages and endpoints, and 401 without a key", async () => {
      for (const [path, method] of [
        [`/messages/${messageId}`, 'GET'],
        [`/messages/${messageId}/resend`, 'POST'],
        [`/endpoints/${endpointId}/stats`, 'GET'],
        [`/endpoints/${endpointId}/recover`, 'POST'],
        [`/endpoints/${endpointId}/test`, 'POST'],
      ] as const) {
        const body = path.endsWith('recover') ? { since: new Date(0).toISOString() } : path.endsWith('test') ? { event_type: 'purchase.logged' } : undefined;
        const response = await call(path, { method, as: otherKey, ...(body ? { body } : {}) });
        expect({ path, status: response.status }).toEqual({ path, status: 404 });
      }
      expect((await json(call('/messages', { as: otherKey }))).items).toEqual([]);
      expect((await call('/messages', { as: 'gk_live_not-a-key' })).status).toBe(401);
    });
  });
});
