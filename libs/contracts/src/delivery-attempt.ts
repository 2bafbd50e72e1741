/** How an attempt left its message: delivered, to be retried, given up (retries used up, or refused for good), or the endpoint to be disabled. */
export const deliveryAttemptOutcomes = ['succeeded', 'scheduled', 'exhausted', 'failed', 'endpoint_disabled'] as const;
export type DeliveryAttemptOutcome = (typeof deliveryAttemptOutcomes)[number];

/**
 * What delivery publishes on `delivery.attempts.v1` for every attempt (key =
 * message id; CloudEvents type `delivery.attempt`, id `<message id>:<attempt
 * number>`, so a record published twice has the same id). For analytics: no
 * body, no response text, no personal data.
 */
export interface DeliveryAttemptV1 {
  message_id: string;
  endpoint_id: string;
  partner_id: string;
  /** The webhook's event type, e.g. `purchase.waiting_payment`. */
  event_type: string;
  /** From 1. */
  attempt_number: number;
  /** RFC 3339. */
  started_at: string;
  latency_ms: number;
  /** Null when no response came (see `error_class`). */
  status_code: number | null;
  /** Why no response came (timeout, connect_refused, dns, tls, reset, ssrf_blocked, …), or null. */
  error_class: string | null;
  outcome: DeliveryAttemptOutcome;
  /** RFC 3339, when `outcome` is `scheduled`. */
  next_attempt_at: string | null;
}
