/**
 * Per-purchase order: an ordered message waits while an earlier one of its
 * purchase to the same endpoint is unsettled. Unordered messages pass on the
 * first operand and never run the sub-query.
 */
export const perPurchaseOrderCondition = `(NOT ordered OR NOT EXISTS (
                   SELECT 1 FROM messages earlier
                    WHERE earlier.ordered AND earlier.endpoint_id = messages.endpoint_id AND earlier.purchase_id = messages.purchase_id
                      AND earlier.sequence < messages.sequence AND earlier.status IN ('pending', 'sending')))`;

/**
 * Leases up to $4 due messages of one lane ($2: first attempts or retries),
 * skipping endpoints at their concurrency cap ($3) and messages held back by
 * `conditions`, for $1 seconds. `FOR UPDATE SKIP LOCKED`: replicas claiming
 * at once get different messages. The conditions are a parameter only so the
 * benchmark can measure the statement without the ordering condition (as it
 * was before ordered delivery) beside the one in use.
 */
export function claimDueMessagesSql(conditions: readonly string[] = [perPurchaseOrderCondition]): string {
  return `UPDATE messages m SET status = 'sending', leased_until = now() + make_interval(secs => $1), attempts = m.attempts + 1
        WHERE m.message_id IN (
          SELECT message_id FROM messages
           WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
             AND (status = 'pending' OR leased_until < now())
             AND (attempts = 0) = $2
             AND NOT (endpoint_id = ANY($3::text[]))
             ${conditions.map((c) => `AND ${c}`).join('\n             ')}
           ORDER BY next_attempt_at
           LIMIT $4
           FOR UPDATE SKIP LOCKED)
        RETURNING m.message_id AS "messageId", m.endpoint_id AS "endpointId", m.partner_id AS "partnerId", m.event_type AS "eventType", m.payload, m.attempts,
                  m.event_recorded_at AS "eventRecordedAt", m.trace_context AS "traceContext", m.ordered`;
}
