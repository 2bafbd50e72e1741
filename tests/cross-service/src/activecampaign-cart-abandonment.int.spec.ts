import { Writable } from 'node:stream';
import { Topics } from '@gancho/contracts';
import { createServiceApp } from '@gancho/service-kit';
import { ActiveCampaignFake, createTestDatabase, eventually, searchLogOutput, startTestService, type TestDatabase, type TestService } from '@gancho/testing';
// Journey, subscriptions and delivery in one process, as their own tests start them.
import { happyPath, journeyClient, startJourney } from '../../../apps/journey/src/testing/journey-test-app';
import { subscriptionsOpenApi } from '../../../apps/subscriptions/src/openapi';
import { startSubscriptionsConsumers, SubscriptionsModule } from '../../../apps/subscriptions/src/subscriptions.module';
import { adminToken, subscriptionsClient, testEncryptionKey } from '../../../apps/subscriptions/src/testing/subscriptions-test-app';
import { DeliveryModule } from '../../../apps/delivery/src/delivery.module';
import { deliveryOpenApi } from '../../../apps/delivery/src/openapi';
import { deliveryEnv, SubscriptionsStandIn, testTopics } from '../../../apps/delivery/src/testing/delivery-test-kit';

// Scenario (issue 12, "done when"), on real PostgreSQL and Kafka, with a local ActiveCampaign server:
// a partner creates three ActiveCampaign endpoints on one account through the subscriptions API — the default
// mapping for every status, a custom mapping for the lost statuses, and one with a token the account refuses.
// Three students abandon their carts (shopping_cart_created, then the journey's inactivity scheduler marks the
// links inactive and expires them); a fourth buys (made_effective). Then, on the ActiveCampaign server:
// - each abandoning student is a contact (name split, fields course / purchase id / status / phase / price,
//   tags gancho:<status> for each status and gancho:cart_recovery, plus the custom endpoint's tag and field);
// - the buyer has gancho:made_effective and no recovery tag;
// - with event tracking on for the first endpoint, each status is also an AC event named after it;
// - no second had more than 5 requests to the account, and none was refused with 429;
// - the endpoint with the refused token is disabled, reason "unauthorized"; the message log shows the AC calls;
// - no log line of subscriptions or delivery (at debug level) holds either API token.
describe('ActiveCampaign destination: cart abandonment end to end', () => {
  const token = 'ac-e2e-token-3c1f9b7a5d2e4f6081a2b3c4d5e6f708';
  const eventTracking = { actid: '445566', key: 'e2e-event-key-9f8e7d6c5b4a3210' };
  const fake = new ActiveCampaignFake({ tokens: [token], eventTracking });
  const topics = testTopics();
  const kafkaTopics = new SubscriptionsStandIn(topics);
  const lines: string[] = [];
  const logDestination = new Writable({ write: (chunk: Buffer, _e, done) => void (lines.push(...chunk.toString().split('\n').filter(Boolean)), done()) });
  const revokedToken = 'ac-revoked-token-00000000000000000000000000';
  let database: TestDatabase;
  let subscriptions: TestService;
  let delivery: TestService;
  let journey: TestService;

  beforeAll(async () => {
    database = await createTestDatabase('ac_e2e');
    await fake.start();
    await kafkaTopics.createTopics();
    subscriptions = await startTestService(() => createServiceApp(SubscriptionsModule.register(), { logDestination, openApi: subscriptionsOpenApi }), {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '',
      LOG_LEVEL: 'debug',
      SUBSCRIPTIONS_ADMIN_TOKENS: adminToken,
      SECRETS_ENCRYPTION_KEY: testEncryptionKey,
      ALLOW_HTTP_ENDPOINTS: 'true',
      ALLOW_PRIVATE_NETWORK_ENDPOINTS: 'true',
      ENDPOINTS_TOPIC: topics.ENDPOINTS_TOPIC,
      API_KEYS_TOPIC: topics.API_KEYS_TOPIC,
      ENDPOINT_HEALTH_CONSUMER_GROUP: `${topics.STATUS_CONSUMER_GROUP}.health`,
    });
    await startSubscriptionsConsumers(subscriptions.app);
    delivery = await startTestService(
      () => createServiceApp(DeliveryModule.register(), { logDestination, openApi: deliveryOpenApi }),
      deliveryEnv(database.url, topics, [fake.host], {
        LOG_LEVEL: 'debug',
        SECRETS_ENCRYPTION_KEY: testEncryptionKey,
        // Subscriptions applies health reports from the contract's topic.
        ENDPOINT_HEALTH_TOPIC: Topics.endpointHealth,
        RETRY_SCHEDULE: '0s,1s,2s,5s',
        ACTIVECAMPAIGN_EVENTS_URL: fake.eventsUrl,
      }),
    );
    journey = await startJourney(database.url, {
      // Delivery reads journey.purchase-status.v1 until it reads v2 (issue 21).
      env: { PURCHASE_STATUS_TOPIC: topics.PURCHASE_STATUS_TOPIC, PUBLISH_STATUS_V1: 'true', CART_INACTIVE_AFTER_MS: '4000', EXPIRE_AFTER_INACTIVE_MS: '3000', TIMEOUT_SCAN_INTERVAL_MS: '500' },
    });
  });
  afterAll(async () => {
    await journey?.close();
    await delivery?.close();
    await subscriptions?.close();
    await kafkaTopics.close();
    await fake.stop();
    await database?.drop();
  });

  it('tags abandoned carts for recovery in ActiveCampaign, within its rate limit', async () => {
    const api = subscriptionsClient(subscriptions.url);
    const { partnerId, key } = await api.newPartner('Escola Azul');
    const partner = api.as(key);
    await eventually(async () => expect((await partner('GET', '/endpoints')).status).toBe(200));
    // ActiveCampaign endpoints keep each purchase's events in order unless told otherwise.
    const everything = await partner('POST', '/endpoints', {
      event_types: ['purchase.*'],
      destination: { type: 'activecampaign', api_url: fake.apiUrl, api_token: token, event_tracking: { actid: eventTracking.actid, event_key: eventTracking.key } },
    });
    expect(everything.status).toBe(201);
    const recovery = await partner('POST', '/endpoints', {
      event_types: ['purchase.link_inactive', 'purchase.expired'],
      destination: {
        type: 'activecampaign',
        api_url: fake.apiUrl,
        api_token: token,
        mapping: { status_tags: false, recovery_tag: 'escola:recuperar', fields: { course: null, purchase_id: null, status: 'ESCOLA_ULTIMO_STATUS', phase: null, price: null } },
      },
    });
    expect(recovery.status).toBe(201);
    expect([everything.body.ordering, recovery.body.ordering]).toEqual(['per_purchase', 'per_purchase']);
    const refused = await partner('POST', '/endpoints', {
      event_types: ['purchase.link_inactive'],
      destination: { type: 'activecampaign', api_url: fake.apiUrl, api_token: revokedToken },
    });
    expect(refused.status).toBe(201);
    // Delivery routes once the endpoints reached it: its partner API knows each of them.
    await eventually(async () => {
      for (const id of [everything.body.id, recovery.body.id, refused.body.id]) {
        expect({ id, status: (await fetch(`${delivery.url}/endpoints/${id}/stats`, { headers: { authorization: `Bearer ${key}` } })).status }).toEqual({ id, status: 200 });
      }
    });

    const checkout = journeyClient(journey.url);
    const students = [
      { name: 'Maria da Silva Santos', email: 'maria.santos@escola.example' },
      { name: 'João Pedro', email: 'joao.pedro@escola.example' },
      { name: 'Ana', email: 'ana@escola.example' },
    ];
    const abandoned: string[] = [];
    for (const student of students) {
      const opened = await checkout.open({ partner_id: partnerId, student });
      expect(opened.status).toBe(201);
      abandoned.push(opened.body.purchase_id);
    }
    const buyer = { name: 'Carla Nunes', email: 'carla.nunes@escola.example' };
    const bought = (await checkout.open({ partner_id: partnerId, student: buyer })).body.purchase_id;
    for (const step of happyPath) expect((await checkout.command(bought, step.path, step.body)).status).toBe(200);

    // The inactivity scheduler marks the carts' links inactive, then expires them.
    await eventually(
      async () => {
        for (const id of abandoned) expect((await checkout.get(id)).body.status).toBe('expired');
      },
      { timeoutMs: 30_000 },
    );

    const expiredAt = Date.now();
    await eventually(
      () => {
        students.forEach((student, i) => {
          const contact = fake.contact(student.email);
          expect(contact?.fields).toEqual({
            GANCHO_COURSE: 'Ciência de Dados',
            GANCHO_PURCHASE_ID: abandoned[i],
            GANCHO_STATUS: 'expired',
            GANCHO_PHASE: 'lost',
            GANCHO_PRICE: '12345.00',
            ESCOLA_ULTIMO_STATUS: 'expired',
          });
          expect(new Set(contact?.tags)).toEqual(new Set(['gancho:shopping_cart_created', 'gancho:link_inactive', 'gancho:cart_recovery', 'gancho:expired', 'escola:recuperar']));
          // Event tracking is on for the endpoint that takes every status: one event per status, named after it.
          const events = fake.events.filter((e) => e.email === student.email).map((e) => [e.event, e.eventdata]);
          expect(events).toEqual([
            ['shopping_cart_created', abandoned[i]],
            ['link_inactive', abandoned[i]],
            ['expired', abandoned[i]],
          ]);
        });
        const carla = fake.contact(buyer.email);
        expect(carla?.fields).toMatchObject({ GANCHO_STATUS: 'made_effective', GANCHO_PHASE: 'won', GANCHO_PURCHASE_ID: bought });
        expect(carla?.tags).toContain('gancho:made_effective');
        expect(carla?.tags).not.toContain('gancho:cart_recovery');
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    process.stdout.write(`[activecampaign e2e] carts expired; ActiveCampaign up to date ${((Date.now() - expiredAt) / 1000).toFixed(1)} s later\n`);
    expect(fake.contact(students[0]!.email)).toMatchObject({ firstName: 'Maria', lastName: 'da Silva Santos' });
    expect(fake.contact(students[2]!.email)).toMatchObject({ firstName: 'Ana', lastName: '' });

    // The refused token disabled its endpoint, with a reason the partner can act on.
    await eventually(async () => {
      const view = (await partner('GET', `/endpoints/${refused.body.id}`)).body;
      expect(view).toMatchObject({ enabled: false, disabled_reason: 'unauthorized' });
      expect(view.disabled_detail).toContain('ActiveCampaign refused the API token (403)');
    });

    // Within ActiveCampaign's limit: no second with more than 5 requests to the account, no 429.
    const peak = fake.peakRequestsPerSecond();
    const span = ((fake.requests.at(-1)?.at ?? 0) - (fake.requests[0]?.at ?? 0)) / 1000;
    process.stdout.write(`[activecampaign e2e] ${fake.requests.length} requests over ${span.toFixed(1)} s; peak ${peak.calendar}/calendar second, ${peak.sliding}/sliding second\n`);
    expect(fake.requests.filter((r) => r.status === 429)).toEqual([]);
    expect(peak.calendar).toBeLessThanOrEqual(5);
    expect(peak.sliding).toBeLessThanOrEqual(5);

    // The message log shows each attempt as the AC calls it made.
    const messages = await fetch(`${delivery.url}/messages?endpoint_id=${everything.body.id}&event_type=purchase.expired&limit=10`, { headers: { authorization: `Bearer ${key}` } });
    const listed = (await messages.json()) as { items: { id?: string; message_id?: string; status: string }[] };
    expect(listed.items).toHaveLength(3);
    const first = listed.items[0]!;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const detail: any = await (await fetch(`${delivery.url}/messages/${first.id ?? first.message_id}`, { headers: { authorization: `Bearer ${key}` } })).json();
    expect(detail.status).toBe('succeeded');
    expect(detail.attempts.at(-1)).toMatchObject({ outcome: 'succeeded', status_code: expect.any(Number) });
    expect(detail.attempts.at(-1).response_snippet).toMatch(/POST \/api\/3\/contact\/sync → 20\d/);
    expect(detail.attempts.at(-1).response_snippet).toMatch(/POST \/api\/3\/contactTags → 20\d/);
    expect(JSON.stringify(detail)).not.toContain(token);

    // Both services logged (at debug level), and never a token, nor a student's name or e-mail.
    const services = new Set(lines.map((l) => (JSON.parse(l) as { service?: string }).service));
    expect(services).toEqual(new Set(['subscriptions', 'delivery']));
    expect(lines.some((l) => l.includes('"level":"debug"'))).toBe(true);
    for (const secret of [token, revokedToken, eventTracking.key]) expect(lines.filter((l) => l.includes(secret))).toEqual([]);
    // Names of one word ("Ana") would match ordinary words ("analysis"); the e-mails cover those students.
    expect(
      searchLogOutput(
        'subscriptions and delivery',
        lines.join('\n'),
        [...students, buyer].flatMap((s) => (s.name.includes(' ') ? [s.name, s.email] : [s.email])),
      ),
    ).toEqual([]);
  }, 180_000);
});
