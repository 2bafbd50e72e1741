import path from 'node:path';
import pg from 'pg';
import { messageIdFor } from '@gancho/delivery-domain';
import { createTestDatabase, eventually, startServiceProcess, uniqueName, type ServiceProcess, type TestDatabase } from '@gancho/testing';
import { deliveryEnv, purchaseId, SubscriptionsStandIn, TestReceiver, testTopics } from '../testing/delivery-test-kit';
import { JourneyStandIn, TestSubject } from '../testing/personal-data-kit';

const mainFile = path.join(__dirname, '..', '..', 'dist', 'main.js');
// Three consumer groups join at each start (a dead member's session must end first after a SIGKILL): room for a busy machine.
const start = (env: Record<string, string>) => startServiceProcess(mainFile, env, { timeoutMs: 90_000 });
jest.setTimeout(300_000);

// With real processes: v2 status events arrive before their subjects' keys and are held; the delivery process is
// SIGKILLed while it holds them, and again while keys are arriving and held events are being released. After
// the restarts every event is delivered (by its webhook-id) with its student's data, none without it.
describe('status events held for their subject keys across a crash (SIGKILL)', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  const journey = new JourneyStandIn(subscriptions.transport, topics);
  let database: TestDatabase;
  let delivery: ServiceProcess;
  let receiver: TestReceiver;
  let client: pg.Client;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase('held_for_keys_crash');
    await subscriptions.createTopics();
    receiver = await new TestReceiver().start();
    env = deliveryEnv(database.url, topics, [receiver.host], { REQUEST_TIMEOUT_MS: '1000', KAFKA_SESSION_TIMEOUT_MS: '6000', ENDPOINTS_WARMUP_MS: '1000' });
    delivery = await start(env);
    client = new pg.Client({ connectionString: database.url, options: '-c search_path=delivery' });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await delivery?.kill();
    await subscriptions.close();
    await receiver?.stop();
    await database?.drop();
  });

  it('loses no held event and sends none without its student', async () => {
    const partner = uniqueName('ptn');
    const endpoint = await subscriptions.putEndpoint({ partnerId: partner, url: receiver.url() });
    receiver.secrets = endpoint.secrets;
    await subscriptions.routedBy(delivery.url, partner, [endpoint.endpointId]);

    const subjects = Array.from({ length: 20 }, (_, i) => new TestSubject({ name: `Aluna Número ${i}`, email: `aluna.${i}@example.com` }));
    const sent: { eventId: string; subject: TestSubject }[] = [];
    for (const [i, subject] of subjects.entries()) {
      for (let n = 0; n < 3; n++) sent.push({ eventId: (await journey.publishStatus(partner, 'shopping_cart_created', subject, { purchase_id: purchaseId(i * 3 + n) })).eventId, subject });
    }
    const held = async () => Number((await client.query('SELECT count(*) AS n FROM held_status_events WHERE awaiting_subject_id IS NOT NULL')).rows[0].n);
    await eventually(async () => expect(await held()).toBeGreaterThan(20), { timeoutMs: 60_000, intervalMs: 20 });
    await delivery.kill();
    delivery = await start(env);

    // Half the keys, and a kill while their events are being released.
    for (const subject of subjects.slice(0, 10)) await journey.publishKey(subject);
    await eventually(() => expect(receiver.received.length).toBeGreaterThan(0), { timeoutMs: 60_000, intervalMs: 5 });
    await delivery.kill();
    delivery = await start(env);
    for (const subject of subjects.slice(10)) await journey.publishKey(subject);

    const expected = new Map(sent.map((s) => [messageIdFor(s.eventId, endpoint.endpointId), s.subject]));
    await eventually(() => expect(new Set(receiver.ids().filter((id) => expected.has(id))).size).toBe(sent.length), { timeoutMs: 90_000, intervalMs: 250 });
    for (const webhook of receiver.received) {
      const subject = expected.get(String(webhook.headers['webhook-id']))!;
      expect(JSON.parse(webhook.body).data.student).toEqual({ id: subject.subjectId, ...subject.student });
    }
    expect(receiver.verificationFailures).toEqual([]);
    expect(await held()).toBe(0);
    process.stdout.write(`held for keys across two SIGKILLs: ${sent.length} events, all delivered with their student, ${receiver.received.length - new Set(receiver.ids()).size} duplicates\n`);
  });
});
