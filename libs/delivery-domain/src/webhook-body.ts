import { eventTypeOf, toWebhookPayload, type EventType, type PurchaseWebhookData, type WebhookStudent } from '@gancho/contracts';
import { WebhookTypeMismatchError } from './errors';

/**
 * The exact body POSTed for a status event: the JSON of `{ type, timestamp,
 * data }` (see `toWebhookPayload`), with every key in the contract's order.
 * The event may have been re-read from storage that reorders keys (jsonb
 * does), so the order is rebuilt here: retries then send identical bytes and
 * the signature covers the same text. Fields the contract does not name are
 * left out.
 */
export function webhookBodyFor(statusEvent: PurchaseWebhookData, type: EventType): string {
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
      student: orderedStudent(data.student),
    } satisfies Required<PurchaseWebhookData>,
  });
}

/** The student's fields in the contract's order, those absent left out (JSON.stringify drops undefined). */
function orderedStudent(student: WebhookStudent): WebhookStudent {
  return { id: student.id, name: student.name, email: student.email, erased: student.erased } as WebhookStudent;
}

/**
 * How much of the student an endpoint sees: everything (`personal`), only the
 * pseudonymous id (`pseudonymous`: the endpoint opted out of personal data),
 * or the id with `erased: true` (the student's personal data was erased).
 */
export type StudentView = 'personal' | 'pseudonymous' | 'erased';

/** The student of a webhook as `view` shows it; `subjectId` is absent only for events of a journey older than sealing. */
export function webhookStudentOf(student: { name: string; email: string } | null, subjectId: string | undefined, view: StudentView): WebhookStudent {
  const id = subjectId === undefined ? {} : { id: subjectId };
  if (view === 'erased' || student === null) return { ...id, erased: true };
  if (view === 'pseudonymous') return id;
  return { ...id, name: student.name, email: student.email };
}

/** The view of an endpoint's messages while the student is not erased. */
export function studentViewOf(endpoint: { include_personal_data?: boolean }): StudentView {
  return endpoint.include_personal_data === false ? 'pseudonymous' : 'personal';
}

/**
 * The body of a stored message with the student redacted (`{ id, erased: true
 * }`): what the message log keeps, and a resend sends, once the student was
 * erased. Everything else stays byte for byte as it was.
 */
export function redactedWebhookBody(body: string): string {
  const payload = JSON.parse(body) as { type: EventType; data: PurchaseWebhookData };
  return webhookBodyFor({ ...payload.data, student: webhookStudentOf(null, payload.data.student.id, 'erased') }, payload.type);
}
