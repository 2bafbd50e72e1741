import { eventTypeOf, eventTypes, examplePayload, toWebhookPayload, webhookPayloadProblems, webhookPayloadSchema, type PurchaseStatusEventV1 } from '@gancho/contracts';
import { WebhookTypeMismatchError } from './errors';
import { webhookBodyFor } from './webhook-body';

// Scenarios:
// - The body is the JSON of toWebhookPayload(event): { type, timestamp = occurred_at, data }, byte for byte.
// - The same event gives the same bytes however its keys were ordered (jsonb reorders them) — retries are identical.
// - Every event type yields a body the contract accepts, with the keys in the order of its schema.
// - A type that is not the event's is refused; fields outside the contract are left out.

const event: PurchaseStatusEventV1 = {
  purchase_id: 'pur_01JDZ8Q6Y3M4T5V6W7X8Y9Z0AB',
  partner_id: 'ptn_01JDZ7K2M3N4P5Q6R7S8T9V0WX',
  status: 'waiting_payment',
  previous_status: 'waiting_signature',
  phase: 'waiting_for_conclusion',
  occurred_at: '2026-11-27T19:28:47.123Z',
  sequence: 7,
  course: { id: 'crs_fullstack_2026', name: 'Full-stack Web Development', price_cents: 1234500, currency: 'BRL' },
  student: { name: 'Maria Silva', email: 'maria.silva@example.com' },
};

/** The event with its keys in the order PostgreSQL jsonb returns them (shorter keys first, then by bytes). */
function jsonbOrdered(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value).sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(keys.map((key) => [key, jsonbOrdered((value as Record<string, unknown>)[key])]));
}

describe('webhookBodyFor', () => {
  it('given a status event, then the body is exactly the JSON of { type, timestamp, data }', () => {
    expect(webhookBodyFor(event, 'purchase.waiting_payment')).toBe(
      '{"type":"purchase.waiting_payment","timestamp":"2026-11-27T19:28:47.123Z","data":{' +
        '"purchase_id":"pur_01JDZ8Q6Y3M4T5V6W7X8Y9Z0AB","partner_id":"ptn_01JDZ7K2M3N4P5Q6R7S8T9V0WX",' +
        '"status":"waiting_payment","previous_status":"waiting_signature","phase":"waiting_for_conclusion",' +
        '"occurred_at":"2026-11-27T19:28:47.123Z","sequence":7,' +
        '"course":{"id":"crs_fullstack_2026","name":"Full-stack Web Development","price_cents":1234500,"currency":"BRL"},' +
        '"student":{"name":"Maria Silva","email":"maria.silva@example.com"}}}',
    );
    expect(JSON.parse(webhookBodyFor(event, 'purchase.waiting_payment'))).toEqual(toWebhookPayload(event));
  });

  it('given the same event read back with its keys reordered, then the bytes are identical', () => {
    const reread = jsonbOrdered(JSON.parse(JSON.stringify(event))) as PurchaseStatusEventV1;
    expect(Object.keys(reread)).not.toEqual(Object.keys(event));
    expect(webhookBodyFor(reread, 'purchase.waiting_payment')).toBe(webhookBodyFor(event, 'purchase.waiting_payment'));
  });

  it('uses the time of the status change as the timestamp, not the time of sending', () => {
    const later = { ...event, occurred_at: '2026-12-01T08:00:00.000Z' };
    expect(JSON.parse(webhookBodyFor(later, 'purchase.waiting_payment')).timestamp).toBe('2026-12-01T08:00:00.000Z');
  });

  it.each(eventTypes.map((type) => [type]))('for %s, gives a body the contract accepts, keys in schema order', (type) => {
    const body = JSON.parse(webhookBodyFor(examplePayload(type).data, type)) as Record<string, unknown>;
    expect(webhookPayloadProblems(body)).toEqual([]);
    const schema = webhookPayloadSchema(type) as { properties: { data: { properties: Record<string, unknown> } } };
    expect(Object.keys(body)).toEqual(['type', 'timestamp', 'data']);
    expect(Object.keys(body['data'] as object)).toEqual(Object.keys(schema.properties.data.properties));
  });

  it('leaves out fields the contract does not name', () => {
    const withExtra = { ...event, internal_score: 712, student: { ...event.student, cpf: '123.456.789-00' } } as PurchaseStatusEventV1;
    const body = webhookBodyFor(withExtra, 'purchase.waiting_payment');
    expect(body).not.toContain('internal_score');
    expect(body).not.toContain('cpf');
    expect(body).toBe(webhookBodyFor(event, 'purchase.waiting_payment'));
  });

  it("refuses a type that is not the status event's, with WEBHOOK_TYPE_MISMATCH", () => {
    expect(() => webhookBodyFor(event, 'purchase.made_effective')).toThrow(WebhookTypeMismatchError);
    try {
      webhookBodyFor(event, eventTypeOf('paid'));
    } catch (error) {
      expect((error as WebhookTypeMismatchError).code).toBe('WEBHOOK_TYPE_MISMATCH');
    }
  });
});
