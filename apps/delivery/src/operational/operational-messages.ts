import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { toOperationalWebhookPayload, type OperationalEventDataOf, type OperationalEventType } from '@gancho/contracts';
import { messageIdFor } from '@gancho/delivery-domain';
import { queryRows } from '@gancho/persistence';
import type { EndpointDirectory } from '../routing/endpoint-directory';

/** One operational event, before it is fanned out to the partner's operational endpoints. */
export type OperationalNotice = {
  [T in OperationalEventType]: {
    /** Unique per occurrence (the same when it is seen again): the webhook-id is derived from it and each endpoint. */
    eventId: string;
    type: T;
    data: OperationalEventDataOf[T];
    /** When it is to be sent; now when absent. */
    dueAt?: Date;
  };
}[OperationalEventType];

/**
 * A UUID that is a function of `name` (SHA-256, with the version and variant
 * bits of RFC 9562's v8): the event id of an occurrence delivery itself
 * notices (an exhausted message, a recovery), the same however often it is
 * noticed, so it is stored once.
 */
export function occurrenceId(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Stores operational events as messages of the message log, one per
 * operational endpoint of the partner (never the endpoint the event is
 * about), so they go out through the one send path: the dispatcher signs them
 * with the receiving endpoint's secret, retries them, and logs every attempt.
 * Message ids come from (event id, endpoint id): an event stored twice is
 * one message.
 */
export class OperationalMessages {
  constructor(private readonly directory: EndpointDirectory) {}

  /** Inserts the messages of `notices` (in `manager`'s transaction when given); returns the ids inserted. */
  async store(notices: readonly OperationalNotice[], db: DataSource | EntityManager): Promise<string[]> {
    const rows = notices.flatMap((notice) => {
      const body = toOperationalWebhookPayload(notice.type, notice.data as never);
      const payload = JSON.stringify(body);
      return this.directory.routeOperational(notice.data.partner_id, notice.type, notice.data.endpoint_id).map((endpoint) => ({
        messageId: messageIdFor(notice.eventId, endpoint.state.endpoint_id),
        eventId: notice.eventId,
        endpointId: endpoint.state.endpoint_id,
        partnerId: notice.data.partner_id,
        type: notice.type,
        payload,
        recordedAt: body.timestamp,
        dueAt: notice.dueAt ?? null,
      }));
    });
    if (rows.length === 0) return [];
    // No purchase: purchase_id is empty and the message is unordered (sequence 0).
    const inserted = await queryRows<{ message_id: string }>(
      db,
      `INSERT INTO messages (message_id, event_id, endpoint_id, partner_id, event_type, purchase_id, payload, event_recorded_at, sequence, ordered, next_attempt_at, status, attempts)
       SELECT m.message_id, m.event_id, m.endpoint_id, m.partner_id, m.event_type, '', m.payload, m.recorded_at, 0, false, coalesce(m.due_at, now()), 'pending', 0
         FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[])
              AS m(message_id, event_id, endpoint_id, partner_id, event_type, payload, recorded_at, due_at)
       ON CONFLICT (message_id) DO NOTHING
       RETURNING message_id`,
      [
        rows.map((r) => r.messageId),
        rows.map((r) => r.eventId),
        rows.map((r) => r.endpointId),
        rows.map((r) => r.partnerId),
        rows.map((r) => r.type),
        rows.map((r) => r.payload),
        rows.map((r) => r.recordedAt),
        rows.map((r) => r.dueAt),
      ],
    );
    return inserted.map((r) => r.message_id);
  }
}
