/** A status event as the events API keeps it: stored by ingest with its messages, in the same statement. */
export interface NewStatusEvent {
  eventId: string;
  partnerId: string;
  eventType: string;
  purchaseId: string;
  sequence: number;
  occurredAt: string;
  /** The messages made for it, one per endpoint routed (none when no endpoint takes it). */
  messageIds: string[];
  /** The webhook body. */
  payload: string;
}

/**
 * The `status_events` insert as a data-modifying CTE over parameters
 * `$first`…`$first+7`, for the statement that stores the messages: one
 * round trip for both. An event consumed again writes nothing, unless it was
 * routed to an endpoint it was not routed to before (one added since): its
 * new message ids join the row, so the delivery state shows that message too.
 */
export function statusEventsInsertCte(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `logged_events AS (
         INSERT INTO status_events (event_id, partner_id, event_type, purchase_id, sequence, occurred_at, message_ids, payload)
         SELECT e.event_id, e.partner_id, e.event_type, e.purchase_id, e.sequence, e.occurred_at, string_to_array(e.message_ids, ','), e.payload
           FROM unnest(${p(0)}::uuid[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::int[], ${p(5)}::timestamptz[], ${p(6)}::text[], ${p(7)}::text[])
                AS e(event_id, partner_id, event_type, purchase_id, sequence, occurred_at, message_ids, payload)
         ON CONFLICT (event_id) DO UPDATE
           SET message_ids = ARRAY(SELECT DISTINCT unnest(status_events.message_ids || EXCLUDED.message_ids))
           WHERE NOT status_events.message_ids @> EXCLUDED.message_ids
       )`;
}

/** The CTE's parameters, in its order: one row per event id (an upsert may not meet its row twice in a statement). */
export function statusEventsInsertParameters(batch: readonly NewStatusEvent[]): unknown[] {
  const byId = new Map<string, NewStatusEvent>();
  for (const event of batch) {
    const seen = byId.get(event.eventId);
    byId.set(event.eventId, seen ? { ...seen, messageIds: [...new Set([...seen.messageIds, ...event.messageIds])] } : event);
  }
  const events = [...byId.values()];
  return [
    events.map((e) => e.eventId),
    events.map((e) => e.partnerId),
    events.map((e) => e.eventType),
    events.map((e) => e.purchaseId),
    events.map((e) => e.sequence),
    events.map((e) => e.occurredAt),
    // unnest cannot take a ragged text[][]: message ids (msg_ + base32, no commas) travel joined.
    events.map((e) => e.messageIds.join(',')),
    events.map((e) => e.payload),
  ];
}
