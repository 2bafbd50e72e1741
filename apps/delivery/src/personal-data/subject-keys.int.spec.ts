import pg from 'pg';
import { createTestDatabase, eventually, uniqueName, webhookSchemaValidator, type TestDatabase, type TestService } from '@gancho/testing';
import { purchaseId, purchaseOf, SubscriptionsStandIn, TestReceiver, startDelivery, testTopics, type ReceivedWebhook } from '../testing/delivery-test-kit';
import { JourneyStandIn, TestSubject } from '../testing/personal-data-kit';
import { SubjectKeysConsumer } from './subject-keys.consumer';

// Scenarios (real broker, PostgreSQL and HTTP receivers; journey's LGPD topics played by a stand-in):
// - A v2 status event whose subject key is on journey.subject-keys.v1 is delivered with the student opened:
//   { id, name, email }; an endpoint with include_personal_data: false gets { id } only. Both valid webhooks.
// - A v2 event that arrives before its key is held (sent nowhere, kept in held_status_events) and delivered,
//   with the student's data, once the key arrives.
// - A v2 event held for a key whose tombstone arrives instead is delivered with { id, erased: true }; the
//   subject's key is gone from subject_keys and a key record for it arriving later is not stored again.
// - The key is stored re-sealed under delivery's own context: neither the transport's sealed value nor the
//   key itself is in the table; another student's key and webhooks are untouched by an erasure.
describe('status events of journey.purchase-status.v2 and the subject keys', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  const journey = new JourneyStandIn(subscriptions.transport, topics);
  const validate = webhookSchemaValidator();
  let database: TestDatabase;
  let service: TestService;
  let full: TestReceiver;
  let minimal: TestReceiver;
  let client: pg.Client;
  const partnerId = uniqueName('ptn');

  beforeAll(async () => {
    database = await createTestDatabase('subject_keys');
    await subscriptions.createTopics();
    [full, minimal] = await Promise.all([new TestReceiver().start(), new TestReceiver().start()]);
    service = await startDelivery(database.url, topics, [full.host, minimal.host]);
    client = new pg.Client({ connectionString: database.url, options: '-c search_path=delivery' });
    await client.connect();
    const withData = await subscriptions.putEndpoint({ partnerId, url: full.url() });
    const withoutData = await subscriptions.putEndpoint({ partnerId, url: minimal.url(), includePersonalData: false });
    full.secrets = withData.secrets;
    minimal.secrets = withoutData.secrets;
    await subscriptions.routedBy(service.url, partnerId, [withData.endpointId, withoutData.endpointId]);
  });
  afterAll(async () => {
    await client?.end();
    await service?.close();
    await subscriptions.close();
    await Promise.all([full?.stop(), minimal?.stop()]);
    await database?.drop();
  });

  const bodiesOf = (receiver: TestReceiver, purchase: string) => receiver.received.filter((w) => purchaseOf(w) === purchase).map((w: ReceivedWebhook) => JSON.parse(w.body) as { data: { student: unknown } });
  const heldFor = async (subjectId: string) => (await client.query('SELECT 1 FROM held_status_events WHERE awaiting_subject_id = $1', [subjectId])).rowCount;

  it('opens the student with its key; an endpoint without personal data gets the id only', async () => {
    const ana = new TestSubject({ name: 'Ana Souza', email: 'ana.souza@example.com' });
    await journey.publishKey(ana);
    const purchase = purchaseId(1);
    await journey.publishStatus(partnerId, 'shopping_cart_created', ana, { purchase_id: purchase });
    await eventually(() => expect(bodiesOf(full, purchase)).toHaveLength(1));
    await eventually(() => expect(bodiesOf(minimal, purchase)).toHaveLength(1));
    expect(bodiesOf(full, purchase)[0]!.data.student).toEqual({ id: ana.subjectId, name: 'Ana Souza', email: 'ana.souza@example.com' });
    expect(bodiesOf(minimal, purchase)[0]!.data.student).toEqual({ id: ana.subjectId });
    expect(minimal.received.find((w) => purchaseOf(w) === purchase)!.body).not.toContain('ana.souza');
    for (const body of [...bodiesOf(full, purchase), ...bodiesOf(minimal, purchase)]) expect(validate(body)).toEqual([]);
    expect([...full.verificationFailures, ...minimal.verificationFailures]).toEqual([]);

    // At rest under delivery's own context: neither the transport's sealed value nor the key in clear.
    const { rows } = await client.query<{ sealed_key: string }>('SELECT sealed_key FROM subject_keys WHERE subject_id = $1', [ana.subjectId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.sealed_key).not.toBe(ana.keyRecord().sealed_key);
  });

  it('holds an event until its key arrives, then delivers it with the student', async () => {
    const bia = new TestSubject({ name: 'Bia Lima', email: 'bia.lima@example.com' });
    const purchase = purchaseId(2);
    await journey.publishStatus(partnerId, 'shopping_cart_created', bia, { purchase_id: purchase });
    await eventually(async () => expect(await heldFor(bia.subjectId)).toBe(1));
    expect(bodiesOf(full, purchase)).toEqual([]);

    await journey.publishKey(bia);
    await eventually(() => expect(bodiesOf(full, purchase)).toHaveLength(1));
    expect(bodiesOf(full, purchase)[0]!.data.student).toEqual({ id: bia.subjectId, name: 'Bia Lima', email: 'bia.lima@example.com' });
    await eventually(async () => expect(await heldFor(bia.subjectId)).toBe(0));
  });

  it('delivers an event held for a key that is erased instead as erased, and stores no key for the subject again', async () => {
    const caio = new TestSubject({ name: 'Caio Prado', email: 'caio.prado@example.com' });
    const dora = new TestSubject({ name: 'Dora Reis', email: 'dora.reis@example.com' });
    await journey.publishKey(dora);
    const purchase = purchaseId(3);
    await journey.publishStatus(partnerId, 'shopping_cart_created', caio, { purchase_id: purchase });
    await eventually(async () => expect(await heldFor(caio.subjectId)).toBe(1));

    await journey.publishKeyTombstone(caio);
    await eventually(() => expect(bodiesOf(full, purchase)).toHaveLength(1));
    expect(bodiesOf(full, purchase)[0]!.data.student).toEqual({ id: caio.subjectId, erased: true });
    expect(validate(bodiesOf(full, purchase)[0])).toEqual([]);

    // A key record after the tombstone (a replay), applied as the consumer applies it, stores nothing.
    const record = caio.keyRecord();
    await service.app
      .get(SubjectKeysConsumer)
      .apply([{ topic: topics.SUBJECT_KEYS_TOPIC, partition: 0, offset: '0', key: caio.subjectId, headers: {}, value: Buffer.from(JSON.stringify(record)), timestamp: Date.now() }]);
    // Dora's key and webhooks are untouched.
    const doraPurchase = purchaseId(4);
    await journey.publishStatus(partnerId, 'shopping_cart_created', dora, { purchase_id: doraPurchase });
    await eventually(() => expect(bodiesOf(full, doraPurchase)).toHaveLength(1));
    expect(bodiesOf(full, doraPurchase)[0]!.data.student).toEqual({ id: dora.subjectId, name: 'Dora Reis', email: 'dora.reis@example.com' });
    const keys = await client.query<{ subject_id: string }>('SELECT subject_id FROM subject_keys WHERE subject_id = ANY($1)', [[caio.subjectId, dora.subjectId]]);
    expect(keys.rows.map((r) => r.subject_id)).toEqual([dora.subjectId]);
  });
});
