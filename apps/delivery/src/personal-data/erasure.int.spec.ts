import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { cloudEventSources, cloudEventTypes, personalDataErasedEventType, toCloudEventsRecord, type PersonalDataErasureV1 } from '@gancho/contracts';
import { createTestDatabase, eventually, uniqueName, webhookSchemaValidator, type TestDatabase, type TestService } from '@gancho/testing';
import { purchaseId, purchaseOf, SubscriptionsStandIn, TestReceiver, startDelivery, testTopics } from '../testing/delivery-test-kit';
import { JourneyStandIn, TestSubject } from '../testing/personal-data-kit';
import { ErasureConsumer } from './erasure.consumer';

// Scenarios (real broker, PostgreSQL and HTTP receivers; journey played by a stand-in):
// - An erasure record redacts every stored body of the student's purchases and deletes their response snippets:
//   no table of delivery's schema holds the name or e-mail afterwards (searched as text and as hex bytes),
//   while another student's stored bodies are untouched and still delivered with their data.
// - purchase.personal_data_erased { purchase_id, partner_id, student: { id }, erased_at } reaches the partner's
//   endpoints subscribed to it (here `*`), valid against its schema, and not an endpoint subscribed to statuses only.
// - A resend after the erasure sends the redacted body (student { id, erased: true }) with the same webhook-id.
// - The same erasure record applied again stores no second notice and changes nothing.
describe('a personal-data erasure in delivery', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  const journey = new JourneyStandIn(subscriptions.transport, topics);
  const validate = webhookSchemaValidator();
  let database: TestDatabase;
  let service: TestService;
  let everything: TestReceiver;
  let statusesOnly: TestReceiver;
  let client: pg.Client;
  let apiKey: string;
  const partnerId = uniqueName('ptn');
  const ana = new TestSubject({ name: 'Ana Quaresma', email: 'ana.quaresma@example.com' });
  const bia = new TestSubject({ name: 'Bia Tavares', email: 'bia.tavares@example.com' });
  const anaPurchase = purchaseId(11);
  const biaPurchase = purchaseId(12);

  beforeAll(async () => {
    database = await createTestDatabase('erasure');
    await subscriptions.createTopics();
    [everything, statusesOnly] = await Promise.all([new TestReceiver().start(), new TestReceiver().start()]);
    // A receiver that echoes what it got: its answer (the attempt's snippet) holds the student's data.
    everything.respond = (webhook) => ({ status: 200, body: webhook.body });
    service = await startDelivery(database.url, topics, [everything.host, statusesOnly.host]);
    client = new pg.Client({ connectionString: database.url, options: '-c search_path=delivery' });
    await client.connect();
    const all = await subscriptions.putEndpoint({ partnerId, url: everything.url() });
    const some = await subscriptions.putEndpoint({ partnerId, url: statusesOnly.url(), eventTypes: ['purchase.shopping_cart_created', 'purchase.waiting_payment'] });
    everything.secrets = all.secrets;
    statusesOnly.secrets = some.secrets;
    await subscriptions.routedBy(service.url, partnerId, [all.endpointId, some.endpointId]);
    apiKey = await subscriptions.issueApiKey(partnerId);
    await Promise.all([journey.publishKey(ana), journey.publishKey(bia)]);
    await journey.publishStatus(partnerId, 'shopping_cart_created', ana, { purchase_id: anaPurchase, sequence: 1, previous_status: null });
    await journey.publishStatus(partnerId, 'shopping_cart_created', bia, { purchase_id: biaPurchase, sequence: 1, previous_status: null });
    await eventually(() => expect(everything.received.map(purchaseOf).sort()).toEqual([anaPurchase, biaPurchase].sort()));
    await eventually(() => expect(statusesOnly.received).toHaveLength(2));
    await eventually(async () => expect((await client.query('SELECT 1 FROM attempts')).rowCount).toBe(4));
  });
  afterAll(async () => {
    await client?.end();
    await service?.close();
    await subscriptions.close();
    await Promise.all([everything?.stop(), statusesOnly?.stop()]);
    await database?.drop();
  });

  /** Every row of every table of delivery's schema, as text (bytea as hex). */
  async function deliveryTablesText(): Promise<string> {
    const tables = await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'delivery' AND table_type = 'BASE TABLE'");
    let text = '';
    for (const { table_name } of tables.rows) {
      const rows = await client.query<{ row: string }>(`SELECT t::text AS row FROM delivery."${table_name}" t`);
      text += rows.rows.map((r) => r.row).join('\n');
    }
    return text;
  }
  const holds = (text: string, value: string) => text.includes(value) || text.includes(Buffer.from(value).toString('hex'));

  const erasure: PersonalDataErasureV1 = {
    erasure_id: `era_${randomBytes(16).toString('hex')}`,
    subject_id: ana.subjectId,
    purchases: [{ purchase_id: anaPurchase, partner_id: partnerId }],
    erased_at: new Date().toISOString(),
  };
  const erasureRecord = () => toCloudEventsRecord({ id: erasure.erasure_id, type: cloudEventTypes.personalDataErasure, source: cloudEventSources.journey, time: erasure.erased_at, subject: ana.subjectId, data: erasure });

  it('purges the student from the message log and tells the endpoints subscribed to the notice', async () => {
    const before = await deliveryTablesText();
    expect(holds(before, ana.student.name) && holds(before, ana.student.email)).toBe(true);

    await journey.publishKeyTombstone(ana);
    await subscriptions.transport.publish(topics.PERSONAL_DATA_ERASURES_TOPIC, [erasureRecord()]);
    await eventually(() => expect(everything.received.filter((w) => JSON.parse(w.body).type === personalDataErasedEventType)).toHaveLength(1));
    const notice = JSON.parse(everything.received.find((w) => JSON.parse(w.body).type === personalDataErasedEventType)!.body);
    expect(notice).toEqual({ type: personalDataErasedEventType, timestamp: erasure.erased_at, data: { purchase_id: anaPurchase, partner_id: partnerId, student: { id: ana.subjectId }, erased_at: erasure.erased_at } });
    expect(validate(notice)).toEqual([]);
    expect(everything.verificationFailures).toEqual([]);

    await eventually(async () => {
      const after = await deliveryTablesText();
      expect(holds(after, ana.student.name)).toBe(false);
      expect(holds(after, ana.student.email)).toBe(false);
    });
    const after = await deliveryTablesText();
    expect(holds(after, bia.student.name) && holds(after, bia.student.email)).toBe(true);
    // The endpoint subscribed to two statuses only is not told.
    expect(statusesOnly.received.map((w) => JSON.parse(w.body).type)).not.toContain(personalDataErasedEventType);
  });

  it('resends the redacted body after the erasure, with the same webhook-id', async () => {
    const original = everything.received.find((w) => purchaseOf(w) === anaPurchase && JSON.parse(w.body).type === 'purchase.shopping_cart_created')!;
    const messageId = String(original.headers['webhook-id']);
    await eventually(async () => expect((await fetch(`${service.url}/messages/${messageId}/resend`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(202));
    await eventually(() => expect(everything.received.filter((w) => w.headers['webhook-id'] === messageId)).toHaveLength(2));
    const resent = everything.received.filter((w) => w.headers['webhook-id'] === messageId)[1]!;
    expect(JSON.parse(resent.body).data.student).toEqual({ id: ana.subjectId, erased: true });
    expect(resent.body).not.toContain(ana.student.email);
    expect(validate(JSON.parse(resent.body))).toEqual([]);

    // Another student is untouched and still delivered with the data.
    await journey.publishStatus(partnerId, 'basic_info_review', bia, { purchase_id: biaPurchase, sequence: 2, previous_status: 'shopping_cart_created' });
    await eventually(() => expect(everything.received.filter((w) => purchaseOf(w) === biaPurchase)).toHaveLength(2));
    expect(JSON.parse(everything.received.filter((w) => purchaseOf(w) === biaPurchase)[1]!.body).data.student).toEqual({ id: bia.subjectId, ...bia.student });
  });

  it('changes nothing when the same erasure record comes again', async () => {
    const count = async () => (await client.query('SELECT 1 FROM messages WHERE event_type = $1', [personalDataErasedEventType])).rowCount;
    expect(await count()).toBe(1);
    const record = erasureRecord();
    await service.app
      .get(ErasureConsumer)
      .apply({ topic: topics.PERSONAL_DATA_ERASURES_TOPIC, partition: 0, offset: '1', key: record.key, headers: record.headers, value: Buffer.from(record.value), timestamp: Date.now() });
    expect(await count()).toBe(1);
  });
});
