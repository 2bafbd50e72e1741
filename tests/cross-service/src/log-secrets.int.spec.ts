import { Writable } from 'node:stream';
import { createServiceApp } from '@gancho/service-kit';
import { createTestDatabase, eventually, requireEnv, searchLogOutput, startTestService, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
// The subscriptions service is started here as its own tests start it: the secrets come from it.
import { subscriptionsOpenApi } from '../../../apps/subscriptions/src/openapi';
import { startSubscriptionsConsumers, SubscriptionsModule } from '../../../apps/subscriptions/src/subscriptions.module';
import { adminToken, subscriptionsClient, testEncryptionKey } from '../../../apps/subscriptions/src/testing/subscriptions-test-app';
import { DeliveryModule } from '../../../apps/delivery/src/delivery.module';
import { deliveryOpenApi } from '../../../apps/delivery/src/openapi';
import { deliveryEnv, SubscriptionsStandIn, TestReceiver, testTopics } from '../../../apps/delivery/src/testing/delivery-test-kit';
import { JourneyModule } from '../../../apps/journey/src/journey.module';
import { journeyOpenApi } from '../../../apps/journey/src/openapi';
import { happyPath, journeyClient, journeyTestEnv } from '../../../apps/journey/src/testing/journey-test-app';

// Scenario, with journey, subscriptions and delivery in-process at LOG_LEVEL=debug, every log line captured:
// an operator creates a partner and its API key; the partner creates an endpoint (with a credential header of
// its own), rotates its signing secret, and reads its messages with the key; a status event with a student's
// email is delivered, signed with both secrets. Then students' purchases go through journey's API (opened, a
// refused command whose body names the student, a walk of statuses) to the endpoint, which first answers 500
// echoing the body (a retry, a response snippet). No log line holds the API key, either signing secret, the
// admin token, the encryption key, the endpoint's credential, or any student's name or e-mail; the lines are
// JSON with each service's name, and the deliveries were logged (so the search ran over real lines).
describe('logs without secrets', () => {
  const lines: string[] = [];
  const logDestination = new Writable({ write: (chunk: Buffer, _e, done) => void (lines.push(...chunk.toString().split('\n').filter(Boolean)), done()) });
  const topics = testTopics();
  const statusEvents = new SubscriptionsStandIn(topics);
  const receiver = new TestReceiver();
  let database: TestDatabase;
  let subscriptions: TestService;
  let delivery: TestService;
  let journey: TestService;

  // Three services start in this process: on a busy two-core box that can take longer than the default hook timeout.
  beforeAll(async () => {
    database = await createTestDatabase('log_secrets');
    await statusEvents.createTopics();
    await receiver.start();
    subscriptions = await startTestService(() => createServiceApp(SubscriptionsModule.register(), { logDestination, openApi: subscriptionsOpenApi }), {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
      LOG_LEVEL: 'debug',
      SUBSCRIPTIONS_ADMIN_TOKENS: adminToken,
      SECRETS_ENCRYPTION_KEY: testEncryptionKey,
      ALLOW_HTTP_ENDPOINTS: 'true',
      ALLOW_PRIVATE_NETWORK_ENDPOINTS: 'true',
      SECRET_ROTATION_OVERLAP_MS: '3600000',
      ENDPOINTS_TOPIC: topics.ENDPOINTS_TOPIC,
      API_KEYS_TOPIC: topics.API_KEYS_TOPIC,
      ENDPOINT_HEALTH_CONSUMER_GROUP: uniqueName('test.health'),
    });
    await startSubscriptionsConsumers(subscriptions.app);
    delivery = await startTestService(
      () => createServiceApp(DeliveryModule.register(), { logDestination, openApi: deliveryOpenApi }),
      deliveryEnv(database.url, topics, [receiver.host], { LOG_LEVEL: 'debug', SECRETS_ENCRYPTION_KEY: testEncryptionKey, RETRY_SCHEDULE: '0s,1s' }),
    );
    journey = await startTestService(() => createServiceApp(JourneyModule.register(), { logDestination, openApi: journeyOpenApi }), {
      ...journeyTestEnv(),
      DATABASE_URL: database.url,
      LOG_LEVEL: 'debug',
      // Subject keys travel to delivery sealed under the key it opens.
      SECRETS_ENCRYPTION_KEY: testEncryptionKey,
      PURCHASE_STATUS_TOPIC: topics.PURCHASE_STATUS_TOPIC,
      PURCHASE_STATUS_V2_TOPIC: topics.PURCHASE_STATUS_V2_TOPIC,
      SUBJECT_KEYS_TOPIC: topics.SUBJECT_KEYS_TOPIC,
      PERSONAL_DATA_ERASURES_TOPIC: topics.PERSONAL_DATA_ERASURES_TOPIC,
    });
  }, 120_000);
  afterAll(async () => {
    await journey?.close();
    await delivery?.close();
    await subscriptions?.close();
    await statusEvents.close();
    await receiver.stop();
    await database?.drop();
  });

  it('keeps keys, secrets, tokens, payloads and students out of every log line at debug level', async () => {
    const api = subscriptionsClient(subscriptions.url);
    const { partnerId, key } = await api.newPartner('Escola Azul');
    expect(key).toMatch(/^gk_live_/);
    const partner = api.as(key);
    const endpointCredential = 'receiver-credential-7c1d9e2f';
    await eventually(async () => expect((await partner('GET', '/endpoints')).status).toBe(200));
    // Created disabled and enabled after its rotation: delivery seeing it enabled has read the rotated state (one key's states stay in order).
    const created = await partner('POST', '/endpoints', { url: receiver.url(), event_types: ['purchase.*'], headers: { Authorization: `Bearer ${endpointCredential}` }, enabled: false });
    expect(created.status).toBe(201);
    const endpointId: string = created.body.id;
    const first: string = (await partner('GET', `/endpoints/${endpointId}/secret`)).body.current.secret;
    expect((await partner('POST', `/endpoints/${endpointId}/secret/rotate`)).status).toBe(200);
    const second: string = (await partner('GET', `/endpoints/${endpointId}/secret`)).body.current.secret;
    expect(second).not.toBe(first);
    receiver.secrets = [first, second];
    expect((await partner('PATCH', `/endpoints/${endpointId}`, { enabled: true })).status).toBe(200);

    const email = 'ana.segredo@example.com';
    await eventually(async () => {
      // Delivery routes once the endpoint's latest state (enabled, after the rotation) reached it; until then an event would go nowhere or be signed once.
      const stats = await fetch(`${delivery.url}/endpoints/${endpointId}/stats`, { headers: { authorization: `Bearer ${key}` } });
      expect({ status: stats.status, enabled: stats.status === 200 ? ((await stats.json()) as { enabled: boolean }).enabled : undefined }).toEqual({ status: 200, enabled: true });
    });
    await statusEvents.publishStatus(partnerId, 'made_effective', { student: { name: 'Ana Segredo', email } });
    await eventually(() => expect(receiver.received).toHaveLength(1));
    const webhook = receiver.received[0]!;
    expect(webhook.body).toContain(email);
    expect(String(webhook.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(receiver.verificationFailures).toEqual([]);
    expect(webhook.headers['authorization']).toBe(`Bearer ${endpointCredential}`);
    const messageId = String(webhook.headers['webhook-id']);
    await eventually(() => expect(lines.some((l) => l.includes(messageId) && l.includes('"level":"debug"'))).toBe(true));

    // Students through journey's API: a purchase walked four statuses on, another opened, a command refused
    // with the student in its body; the endpoint answers the first journey webhook with 500 and the body echoed.
    const students = [
      { name: 'Beatriz Sigilo Moura', email: 'Beatriz.Sigilo@example.com' },
      { name: 'Caio Reservado Dias', email: 'caio.reservado@example.com' },
    ];
    let failed = false;
    receiver.respond = (webhook) => {
      if (failed) return { status: 204 };
      failed = true;
      return { status: 500, body: `could not store ${webhook.body}` };
    };
    const checkout = journeyClient(journey.url);
    const walked = (await checkout.open({ partner_id: partnerId, student: students[0] })).body.purchase_id as string;
    const opened = await checkout.open({ partner_id: partnerId, student: students[1] });
    expect(opened.status).toBe(201);
    for (const step of happyPath.slice(0, 4)) expect((await checkout.command(walked, step.path, step.body)).status).toBe(200);
    const refused = await checkout.command(walked, happyPath[0]!.path, { student: students[0], note: `from ${students[0]!.email}` });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    // Two purchases opened and four statuses on, plus the retry of the one that failed.
    await eventually(() => expect(receiver.received.filter((w) => !w.body.includes(email))).toHaveLength(2 + 4 + 1), { timeoutMs: 30_000 });
    const lastMessageId = String(receiver.received.at(-1)!.headers['webhook-id']);
    await eventually(() => expect(lines.some((l) => l.includes(lastMessageId) && l.includes('"level":"debug"'))).toBe(true));

    const log = lines.join('\n');
    const parsed = lines.map((line) => JSON.parse(line) as { service?: string; level?: string });
    expect(new Set(parsed.map((l) => l.service))).toEqual(new Set(['journey', 'subscriptions', 'delivery']));
    // One search over every line: in one process, Nest's static Logger writes through the last app created, so a line's `service` is not a reliable split.
    expect(searchLogOutput('services', log, ['Ana Segredo', email, ...students.flatMap((s) => [s.name, s.email])])).toEqual([]);
    expect(parsed.some((l) => l.level === 'debug')).toBe(true);
    const encryptionKey = testEncryptionKey.split(':')[1]!;
    for (const [what, secret] of Object.entries({ key, first, second, adminToken, encryptionKey, endpointCredential, email })) {
      expect({ what, found: log.includes(secret) }).toEqual({ what, found: false });
      // Signing secrets are base64: look for the bytes without the prefix too.
      if (secret.startsWith('whsec_')) expect({ what, found: log.includes(secret.slice(6)) }).toEqual({ what, found: false });
    }
  });
});
