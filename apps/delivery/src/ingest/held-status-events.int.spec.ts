import pg from 'pg';
import { eventTypeOf, examplePayload, toCloudEventsKafkaMessage, type PurchaseStatusEventV1 } from '@gancho/contracts';
import { createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { purchaseOf, SubscriptionsStandIn, TestReceiver, startDelivery, testTopics } from '../testing/delivery-test-kit';

// Must-understand for status events, on the real broker, PostgreSQL and an HTTP
// receiver: a record of a "future" journey (a field or a status this release
// does not know) is sent nowhere, counted, and kept as it came — across a
// restart — while the events behind it on its partition flow; a held event
// this release reads (held by an older one) is delivered at start.
describe('status events delivery cannot fully read', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  let receiver: TestReceiver;
  let client: pg.Client;
  const partnerId = uniqueName('ptn');
  const start = () => startDelivery(database.url, topics, [receiver.host]);

  beforeAll(async () => {
    database = await createTestDatabase('held_status_events');
    await subscriptions.createTopics();
    receiver = await new TestReceiver().start();
    service = await start();
    client = new pg.Client({ connectionString: database.url, options: '-c search_path=delivery' });
    await client.connect();
    const endpoint = await subscriptions.putEndpoint({ partnerId, url: receiver.url() });
    receiver.secrets = endpoint.secrets;
    await subscriptions.routedBy(service.url, partnerId, [endpoint.endpointId]);
  });
  afterAll(async () => {
    await client?.end();
    await service?.close();
    await subscriptions.close();
    await receiver?.stop();
    await database?.drop();
  });

  const statusRecord = (data: PurchaseStatusEventV1, eventId = crypto.randomUUID()) => toCloudEventsKafkaMessage({ eventId, type: eventTypeOf(data.status), time: data.occurred_at, purchaseId: data.purchase_id, data });
  const held = async () => (await client.query<{ key: string; value: Buffer; problems: string }>('SELECT key, value, problems FROM held_status_events ORDER BY "offset"')).rows;

  it('sends nothing for a record of a newer journey, keeps it as it came, and delivers what follows it', async () => {
    const purchaseId = 'pur_held_0001';
    const data = { ...examplePayload('purchase.waiting_payment').data, partner_id: partnerId, purchase_id: purchaseId };
    const withNewField = statusRecord(data);
    withNewField.value = JSON.stringify({ ...data, installments: 12 });
    const newStatus = statusRecord({ ...data, sequence: data.sequence + 1 });
    newStatus.headers['ce_type'] = 'purchase.refunded';
    newStatus.value = JSON.stringify({ ...data, status: 'refunded', sequence: data.sequence + 1 });
    const after = statusRecord({ ...examplePayload('purchase.approved').data, partner_id: partnerId, purchase_id: purchaseId });
    await subscriptions.transport.publish(topics.PURCHASE_STATUS_TOPIC, [withNewField, newStatus, after]);

    // Same key, same partition: once the event after them is delivered, both were read.
    await eventually(() => expect(receiver.received.map(purchaseOf)).toEqual([purchaseId]));
    expect(JSON.parse(receiver.received[0]!.body).type).toBe('purchase.approved');
    const rows = await held();
    expect(rows.map((r) => [r.key, r.value.toString()])).toEqual([
      [purchaseId, withNewField.value],
      [purchaseId, newStatus.value],
    ]);
    expect(rows.map((r) => r.problems).join(' ')).not.toContain(data.student.email);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/gancho_messaging_records_not_understood_total\{[^}]*\} 2/);

    // A restart of the same release keeps them held, and sends nothing again.
    await service.close();
    service = await start();
    expect(await held()).toHaveLength(2);
    expect(receiver.received).toHaveLength(1);
  });

  it('delivers at start a held event this release reads', async () => {
    const data = { ...examplePayload('purchase.made_effective').data, partner_id: partnerId, purchase_id: 'pur_held_0002' };
    const record = statusRecord(data);
    // As an older release would have held it (it did not know made_effective, say).
    await client.query(`INSERT INTO held_status_events (topic, "partition", "offset", key, headers, value, problems) VALUES ($1, 0, 999999, $2, $3, $4, 'unknown type')`, [
      topics.PURCHASE_STATUS_TOPIC,
      record.key,
      JSON.stringify(record.headers),
      Buffer.from(record.value),
    ]);
    await service.close();
    service = await start();
    await eventually(() => expect(receiver.received.map(purchaseOf)).toContain('pur_held_0002'));
    expect(await held()).toHaveLength(2);
    expect(receiver.verificationFailures).toEqual([]);
  });
});
