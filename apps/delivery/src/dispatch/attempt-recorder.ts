import { randomUUID } from 'node:crypto';
import { queryRows } from '@gancho/persistence';
import type { EntityManager } from 'typeorm';
import type { EndpointHealthReportV1 } from '@gancho/contracts';
import { PostgresEventStore, type NewEvent } from '@gancho/event-store';
import { shouldDisableEndpoint, summarizeEndpointOutcomes, type DeliveryPlan, type EndpointOutcomeSummary } from '@gancho/delivery-domain';

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
  /** Named in the report when the endpoint answered 410 Gone. */
  endpointUrl: string;
  /** Why the plan disables the endpoint, for the partner, when it is not a 410 (an ActiveCampaign token refused). */
  disableDetail?: string;
}

/** What one attempt did, whatever the destination, before it is tied to its message. */
export type AttemptOutcomeRecord = Omit<AttemptRecord, 'messageId' | 'endpointId' | 'partnerId' | 'eventType' | 'attemptNumber' | 'endpointUrl'>;

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
 * Writes a batch of attempts in the caller's transaction with set-based
 * statements: the attempts, the messages' new states, one `AttemptMade` event
 * each (appended together to the writer's own stream, for Kafka), and one
 * health row per endpoint — asking subscriptions to disable an endpoint that
 * answered 410 or has failed for too long. The log and what analytics receive
 * never disagree, and a batch costs about as many statements as one attempt.
 */
export async function recordAttempts(
  manager: EntityManager,
  store: PostgresEventStore,
  attempts: readonly AttemptRecord[],
  { streamId, disableAfterMs, healthyEndpoints }: { streamId: string; disableAfterMs: number; healthyEndpoints?: RecentSuccesses },
): Promise<void> {
  if (attempts.length === 0) return;
  const nextOf = (a: AttemptRecord) => (a.plan.state === 'scheduled' ? a.plan.nextAttemptAt : null);
  await manager.query(
    `INSERT INTO attempts (message_id, attempt_number, endpoint_id, started_at, finished_at, latency_ms, status_code, error_class, error_message, response_snippet, outcome, next_attempt_at)
     SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::int[], $7::int[], $8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[])
     ON CONFLICT (message_id, attempt_number) DO NOTHING`,
    [
      attempts.map((a) => a.messageId),
      attempts.map((a) => a.attemptNumber),
      attempts.map((a) => a.endpointId),
      attempts.map((a) => a.startedAt),
      attempts.map((a) => a.finishedAt),
      attempts.map((a) => Math.round(a.latencyMs)),
      attempts.map((a) => a.statusCode),
      attempts.map((a) => a.errorClass),
      attempts.map((a) => a.errorMessage),
      attempts.map((a) => a.responseSnippet),
      attempts.map((a) => a.plan.state),
      attempts.map(nextOf),
    ],
  );
  await manager.query(
    `UPDATE messages m SET status = u.status, next_attempt_at = u.next_attempt_at, leased_until = NULL, last_attempt_at = u.finished_at,
            last_status_code = u.status_code, last_error = u.error_class
       FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[], $6::text[])
            AS u(message_id, status, next_attempt_at, finished_at, status_code, error_class)
      WHERE m.message_id = u.message_id`,
    [
      attempts.map((a) => a.messageId),
      attempts.map((a) => messageStatusOf[a.plan.state]),
      attempts.map(nextOf),
      attempts.map((a) => a.finishedAt),
      attempts.map((a) => a.statusCode),
      attempts.map((a) => a.errorClass),
    ],
  );
  const events: NewEvent<DeliveryAttemptV1>[] = attempts.map((attempt) => ({
    eventId: randomUUID(),
    type: attemptEventType,
    data: {
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
      next_attempt_at: nextOf(attempt)?.toISOString() ?? null,
    },
    metadata: {},
  }));
  await store.appendToStream(streamId, events, { expectedVersion: 'any', manager });

  const summaries = summarizeEndpointOutcomes(
    attempts.map((a) => ({ endpointId: a.endpointId, partnerId: a.partnerId, succeeded: a.plan.state === 'succeeded', finishedAt: a.finishedAt })),
  );
  const toWrite = healthyEndpoints ? healthyEndpoints.worthWriting(summaries) : summaries;
  const clocks = toWrite.length > 0 ? await updateEndpointHealth(manager, toWrite) : new Map<string, HealthClock>();
  for (const summary of summaries) {
    const gone = attempts.find((a) => a.endpointId === summary.endpointId && a.plan.state === 'endpoint_disabled');
    if (gone) {
      await reportUnhealthy(manager, store, {
        endpoint_id: gone.endpointId,
        partner_id: gone.partnerId,
        reason: gone.plan.state === 'endpoint_disabled' ? gone.plan.reason : 'gone',
        detail: gone.disableDetail ?? `410 Gone from ${gone.endpointUrl}`,
        occurred_at: gone.finishedAt.toISOString(),
      });
      continue;
    }
    const clock = clocks.get(summary.endpointId);
    if (!clock || !summary.lastFailureAt) continue;
    const decision = shouldDisableEndpoint({ ...clock, now: summary.lastFailureAt, disableAfterMs });
    if (decision.disable) {
      await reportUnhealthy(manager, store, {
        endpoint_id: summary.endpointId,
        partner_id: summary.partnerId,
        reason: 'failing',
        detail: decision.detail,
        occurred_at: summary.lastFailureAt.toISOString(),
      });
    }
  }
}

/**
 * Endpoints this process recently recorded a success for, with no failure
 * since. Their next successes need not be written again for a while: the
 * health clock only matters once an endpoint fails, and a failure is always
 * written (and forgets the endpoint here, so the success after it restarts
 * the clock). Saves one row write per delivery to a healthy endpoint; the
 * stored last success may lag by up to `refreshMs`.
 */
export class RecentSuccesses {
  private readonly writtenAt = new Map<string, number>();

  constructor(private readonly refreshMs: number) {}

  worthWriting(summaries: readonly EndpointOutcomeSummary[], nowMs: number = Date.now()): EndpointOutcomeSummary[] {
    return summaries.filter((summary) => {
      if (summary.failuresAfterSuccess > 0) {
        this.writtenAt.delete(summary.endpointId);
        return true;
      }
      const last = this.writtenAt.get(summary.endpointId);
      if (last !== undefined && nowMs - last < this.refreshMs) return false;
      this.writtenAt.set(summary.endpointId, nowMs);
      return true;
    });
  }
}

interface HealthClock {
  lastSuccessAt: Date | null;
  firstFailureSinceSuccessAt: Date | null;
}

/**
 * Moves each endpoint's success/failure clock by a batch's summary (a success
 * restarts it and allows a new report; failures alone add up) and returns the
 * clocks after the batch.
 */
async function updateEndpointHealth(manager: EntityManager, summaries: readonly EndpointOutcomeSummary[]): Promise<Map<string, HealthClock>> {
  const rows = await queryRows<{ endpoint_id: string; last_success_at: Date | null; first_failure_since_success_at: Date | null }>(
    manager,
    `INSERT INTO endpoint_health AS h (endpoint_id, partner_id, last_success_at, first_failure_since_success_at, consecutive_failures)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[]) ORDER BY 1
     ON CONFLICT (endpoint_id) DO UPDATE SET
       last_success_at = GREATEST(h.last_success_at, EXCLUDED.last_success_at),
       first_failure_since_success_at = CASE WHEN EXCLUDED.last_success_at IS NOT NULL THEN EXCLUDED.first_failure_since_success_at
                                             ELSE COALESCE(h.first_failure_since_success_at, EXCLUDED.first_failure_since_success_at) END,
       consecutive_failures = CASE WHEN EXCLUDED.last_success_at IS NOT NULL THEN EXCLUDED.consecutive_failures
                                   ELSE h.consecutive_failures + EXCLUDED.consecutive_failures END,
       reported_at = CASE WHEN EXCLUDED.last_success_at IS NOT NULL THEN NULL ELSE h.reported_at END
     RETURNING endpoint_id, last_success_at, first_failure_since_success_at`,
    [
      summaries.map((s) => s.endpointId),
      summaries.map((s) => s.partnerId),
      summaries.map((s) => s.lastSuccessAt),
      summaries.map((s) => s.firstFailureAfterSuccessAt),
      summaries.map((s) => s.failuresAfterSuccess),
    ],
  );
  return new Map(rows.map((r) => [r.endpoint_id, { lastSuccessAt: r.last_success_at, firstFailureSinceSuccessAt: r.first_failure_since_success_at }]));
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
