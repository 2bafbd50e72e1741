import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Kafka as CloudEventsKafka } from 'cloudevents';
import { eventTypeOf, toWebhookPayload, webhookPayloadSchema, type EventType, type PurchaseStatusEventV1 } from '@gancho/contracts';
import { KafkaTransport, type IncomingMessage } from '@gancho/messaging';
import { createTestDatabase, eventually, kafkaBrokers, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { happyPath, journeyClient, startJourney } from '../testing/journey-test-app';

// Scenarios, on the real PostgreSQL and Kafka:
// - every status change reaches the status topic as a CloudEvent (binary mode) keyed by
//   purchase id, with traceparent, read back by the public `cloudevents` SDK;
// - each payload validates against its published JSON Schema;
// - per purchase, events arrive in sequence order.
describe('purchase status relay', () => {
  let database: TestDatabase;
  let service: TestService;
  const topic = uniqueName('test.journey-status');
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'relay-test', maxWaitTimeMs: 200 });
  const received: IncomingMessage[] = [];
  let stop: () => Promise<void>;

  beforeAll(async () => {
    database = await createTestDatabase('journey_relay');
    service = await startJourney(database.url, { env: { PURCHASE_STATUS_TOPIC: topic, PURCHASE_STATUS_PARTITIONS: '3', PUBLISH_STATUS_V1: 'true' } });
    const subscription = await transport.subscribe({ groupId: uniqueName('relay-reader'), topics: [topic], fromBeginning: true, handle: async (m) => void received.push(m) });
    stop = () => subscription.stop();
  });
  afterAll(async () => {
    await stop?.();
    await transport.close();
    await service?.close();
    await database?.drop();
  });

  it('publishes every status change as a valid CloudEvent, in order per purchase', async () => {
    const api = journeyClient(service.url);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const ids = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const id = (await api.open({}, { traceparent })).body.purchase_id as string;
        for (const step of happyPath) expect((await api.command(id, step.path, step.body, { traceparent })).status).toBe(200);
        return id;
      }),
    );
    const perPurchase = happyPath.length + 1;
    await eventually(() => expect(received).toHaveLength(ids.length * perPurchase), { timeoutMs: 20_000 });

    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    for (const message of received) {
      const headers = message.headers;
      const event = CloudEventsKafka.toEvent({ key: message.key ?? undefined, value: message.value.toString(), headers, body: message.value.toString() } as never) as unknown as {
        id: string;
        type: EventType;
        source: string;
        subject: string;
        data: PurchaseStatusEventV1;
        validate(): boolean;
      };
      expect(event.validate()).toBe(true);
      expect(event.source).toBe('/gancho/journey');
      expect(event.subject).toBe(message.key);
      expect(event.type).toBe(eventTypeOf(event.data.status));
      expect(headers.traceparent).toBe(traceparent);
      const validate = ajv.getSchema(webhookPayloadSchema(event.type).$id as string) ?? ajv.compile(webhookPayloadSchema(event.type));
      const webhook = toWebhookPayload(event.data);
      expect({ valid: validate(webhook), errors: validate.errors }).toEqual({ valid: true, errors: null });
    }
    for (const id of ids) {
      const ofPurchase = received.filter((m) => m.key === id).map((m) => JSON.parse(m.value.toString()) as PurchaseStatusEventV1);
      expect(ofPurchase.map((e) => e.sequence)).toEqual(Array.from({ length: perPurchase }, (_, i) => i + 1));
      expect(ofPurchase.map((e) => e.status)).toEqual(['shopping_cart_created', ...happyPath.map((s) => s.status)]);
      expect(ofPurchase[1]).toMatchObject({ previous_status: 'shopping_cart_created', partner_id: 'ptn_escola_azul', phase: 'open' });
    }
  });
});
