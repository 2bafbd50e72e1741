import { randomUUID } from 'node:crypto';
import { queryRows } from '@gancho/persistence';
import type { EntityManager } from 'typeorm';
import type { EndpointHealthReportV1 } from '@gancho/contracts';
import { PostgresEventStore, type NewEvent } from '@gancho/event-store';
import type { DeliveryPlan } from '@gancho/delivery-domain';

/** What one attempt did, as the log keeps it and analytics receive it. */
export interface AttemptRecord {
  messageId: string;
  endpointId: string;
  partnerId: string;
  eventType: string;
  attemptNumber: number;
  startedAt: Date;
  finishedAt: Date;
  latencyMs: number;
  statusCode: number | null;
  errorClass: string | null;
  errorMessage: string | null;
  responseSnippet: string | null;
  plan: DeliveryPlan;
}

/** The value published on `delivery.attempts.v1` (key: message id). */
export interface DeliveryAttemptV1 {
  message_id: string;
  endpoint_id: string;
  partner_id: string;
  event_type: string;
  attempt_number: number;
  started_at: string;
  latency_ms: number;
  status_code: number | null;
  error_class: string | null;
  outcome: DeliveryPlan['state'];
  next_attempt_at: string | null;
}

export const attemptEventType = 'AttemptMade';
export const healthReportEventType = 'EndpointHealthReported';

const messageStatusOf: Record<DeliveryPlan['state'], string> = {
  succeeded: 'succeeded',
  scheduled: 'pending',
  exhausted: 'exhausted',
  failed: 'failed',
  endpoint_disabled: 'failed',
};

/**
 * Writes an attempt, the message's new state, the endpoint's health and the
 * events for Kafka (attempt, health report) in the caller's transaction, so
 * the log and what analytics receive never disagree.
 */
export async function recordAttempt(manager: EntityManager, store: PostgresEventStore, attempt: AttemptRecord): Promise<void> {
  const next = attempt.plan.state === 'scheduled' ? attempt.plan.nextAttemptAt : null;
  await manager.query(
    `INSERT INTO attempts (message_id, attempt_number, endpoint_id, started_at, finished_at, latency_ms, status_code, error_class, error_message, response_snippet, outcome, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (message_id, attempt_number) DO NOTHING`,
    [
      attempt.messageId,
      attempt.attemptNumber,
      attempt.endpointId,
      attempt.startedAt,
      attempt.finishedAt,
      attempt.latencyMs,
      attempt.statusCode,
      attempt.errorClass,
      attempt.errorMessage,
      attempt.responseSnippet,
      attempt.plan.state,
      next,
    ],
  );
  await manager.query(
    `UPDATE messages SET status = $2, next_attempt_at = $3, leased_until = NULL, last_attempt_at = $4, last_status_code = $5, last_error = $6
     WHERE message_id = $1`,
    [attempt.messageId, messageStatusOf[attempt.plan.state], next, attempt.finishedAt, attempt.statusCode, attempt.errorClass],
  );
  const value: DeliveryAttemptV1 = {
    message_id: attempt.messageId,
    endpoint_id: attempt.endpointId,
    partner_id: attempt.partnerId,
    event_type: attempt.eventType,
    attempt_number: attempt.attemptNumber,
    started_at: attempt.startedAt.toISOString(),
    latency_ms: attempt.latencyMs,
    status_code: attempt.statusCode,
    error_class: attempt.errorClass,
    outcome: attempt.plan.state,
    next_attempt_at: next?.toISOString() ?? null,
  };
  const event: NewEvent<DeliveryAttemptV1> = { eventId: randomUUID(), type: attemptEventType, data: value, metadata: {} };
  await store.appendToStream(`message:${attempt.messageId}`, [event], { expectedVersion: 'any', manager });
}

/** Keeps the endpoint's success/failure clock; returns it after this attempt. */
export async function updateEndpointHealth(
  manager: EntityManager,
  endpointId: string,
  partnerId: string,
  succeeded: boolean,
  at: Date,
): Promise<{ lastSuccessAt: Date | null; firstFailureSinceSuccessAt: Date | null; reportedAt: Date | null }> {
  const [row] = await queryRows<{ last_success_at: Date | null; first_failure_since_success_at: Date | null; reported_at: Date | null }>(
    manager,
    succeeded
      ? `INSERT INTO endpoint_health (endpoint_id, partner_id, last_success_at, consecutive_failures) VALUES ($1, $2, $3, 0)
         ON CONFLICT (endpoint_id) DO UPDATE SET last_success_at = GREATEST(endpoint_health.last_success_at, $3),
           first_failure_since_success_at = NULL, consecutive_failures = 0, reported_at = NULL
         RETURNING last_success_at, first_failure_since_success_at, reported_at`
      : `INSERT INTO endpoint_health (endpoint_id, partner_id, first_failure_since_success_at, consecutive_failures) VALUES ($1, $2, $3, 1)
         ON CONFLICT (endpoint_id) DO UPDATE SET
           first_failure_since_success_at = COALESCE(endpoint_health.first_failure_since_success_at, $3),
           consecutive_failures = endpoint_health.consecutive_failures + 1
         RETURNING last_success_at, first_failure_since_success_at, reported_at`,
    [endpointId, partnerId, at],
  );
  if (!row) throw new Error(`endpoint health of ${endpointId} was not written`);
  return { lastSuccessAt: row.last_success_at, firstFailureSinceSuccessAt: row.first_failure_since_success_at, reportedAt: row.reported_at };
}

/** Asks subscriptions (through the outbox) to disable an endpoint, once per failing spell. */
export async function reportUnhealthy(manager: EntityManager, store: PostgresEventStore, report: EndpointHealthReportV1): Promise<void> {
  const [claimed] = await queryRows(manager, 'UPDATE endpoint_health SET reported_at = $2 WHERE endpoint_id = $1 AND reported_at IS NULL RETURNING endpoint_id', [
    report.endpoint_id,
    report.occurred_at,
  ]);
  if (!claimed) return;
  const event: NewEvent<EndpointHealthReportV1> = { eventId: randomUUID(), type: healthReportEventType, data: report, metadata: {} };
  await store.appendToStream(`endpoint-health:${report.endpoint_id}`, [event], { expectedVersion: 'any', manager });
}
