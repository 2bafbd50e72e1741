import { eventTypeOf, toWebhookPayload, type EventType, type PurchaseStatusEventV1 } from '@gancho/contracts';
import { WebhookTypeMismatchError } from './errors';

/**
 * The exact body POSTed for a status event: the JSON of `{ type, timestamp,
 * data }` (see `toWebhookPayload`), with every key in the contract's order.
 * The event may have been re-read from storage that reorders keys (jsonb
 * does), so the order is rebuilt here: retries then send identical bytes and
 * the signature covers the same text. Fields the contract does not name are
 * left out.
 */
export function webhookBodyFor(statusEvent: PurchaseStatusEventV1, type: EventType): string {
  const expected = eventTypeOf(statusEvent.status);
  if (type !== expected) throw new WebhookTypeMismatchError(type, expected);
  const payload = toWebhookPayload(statusEvent);
  const { data } = payload;
  return JSON.stringify({
    type: payload.type,
    timestamp: payload.timestamp,
    data: {
      purchase_id: data.purchase_id,
      partner_id: data.partner_id,
      status: data.status,
      previous_status: data.previous_status,
      phase: data.phase,
      occurred_at: data.occurred_at,
      sequence: data.sequence,
      course: { id: data.course.id, name: data.course.name, price_cents: data.course.price_cents, currency: data.course.currency },
      student: { name: data.student.name, email: data.student.email },
    } satisfies Required<PurchaseStatusEventV1>,
  });
}
