import type { DataSource } from 'typeorm';
import { personalDataErasedEventType } from '@gancho/contracts';
import { redactedWebhookBody } from '@gancho/delivery-domain';
import { queryRows } from '@gancho/persistence';

/**
 * Removes an erased student from the message log: every stored status body
 * of the student's purchases is rewritten with `student: { id, erased: true }`
 * (what a resend then sends), and the response snippets of their attempts
 * (a partner may echo the body back) are deleted. Idempotent.
 */
export async function purgeErasedStudent(dataSource: DataSource, purchases: readonly { purchase_id: string; partner_id: string }[]): Promise<{ bodies: number; attempts: number }> {
  if (purchases.length === 0) return { bodies: 0, attempts: 0 };
  const messages = await queryRows<{ message_id: string; payload: string }>(
    dataSource,
    `SELECT m.message_id, m.payload FROM messages m
       JOIN unnest($1::text[], $2::text[]) AS p(purchase_id, partner_id) ON m.partner_id = p.partner_id AND m.purchase_id = p.purchase_id
      WHERE m.event_type <> $3`,
    [purchases.map((p) => p.purchase_id), purchases.map((p) => p.partner_id), personalDataErasedEventType],
  );
  const rewritten = messages.map((m) => ({ id: m.message_id, payload: redactedWebhookBody(m.payload) })).filter((m, i) => m.payload !== messages[i]!.payload);
  if (rewritten.length > 0) {
    await dataSource.query(`UPDATE messages m SET payload = r.payload FROM unnest($1::text[], $2::text[]) AS r(message_id, payload) WHERE m.message_id = r.message_id`, [
      rewritten.map((r) => r.id),
      rewritten.map((r) => r.payload),
    ]);
  }
  const attempts = await queryRows(dataSource, 'UPDATE attempts SET response_snippet = NULL WHERE message_id = ANY($1::text[]) AND response_snippet IS NOT NULL RETURNING 1', [messages.map((m) => m.message_id)]);
  // The events API keeps its own copy of each status event's webhook body: redacted the same way.
  const logged = await queryRows<{ event_id: string; payload: string }>(
    dataSource,
    `SELECT e.event_id, e.payload FROM status_events e
       JOIN unnest($1::text[], $2::text[]) AS p(purchase_id, partner_id) ON e.partner_id = p.partner_id AND e.purchase_id = p.purchase_id`,
    [purchases.map((p) => p.purchase_id), purchases.map((p) => p.partner_id)],
  );
  const relogged = logged.map((e) => ({ id: e.event_id, payload: redactedWebhookBody(e.payload) })).filter((e, i) => e.payload !== logged[i]!.payload);
  if (relogged.length > 0) {
    await dataSource.query(`UPDATE status_events e SET payload = r.payload FROM unnest($1::uuid[], $2::text[]) AS r(event_id, payload) WHERE e.event_id = r.event_id`, [
      relogged.map((r) => r.id),
      relogged.map((r) => r.payload),
    ]);
  }
  return { bodies: rewritten.length + relogged.length, attempts: attempts.length };
}
