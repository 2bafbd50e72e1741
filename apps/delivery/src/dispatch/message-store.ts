import type { DataSource, EntityManager } from 'typeorm';
import type { DeliveryAttemptV1 } from '@gancho/contracts';
import { queryRows } from '@gancho/persistence';
import type { DeliveryPlan, EndpointOutcomeSummary } from '@gancho/delivery-domain';
import { appendNotifications, type ReadPage, type StoredEvent } from '@gancho/event-store';
import { statusEventsInsertCte, statusEventsInsertParameters, type NewStatusEvent } from '../events/status-event-log';
import { claimDueMessagesSql } from './claim-query';

/** A message to store: one per (status event, endpoint). */
export interface NewMessage {
  messageId: string;
  eventId: string;
  endpointId: string;
  partnerId: string;
  eventType: string;
  purchaseId: string;
  payload: string;
  eventRecordedAt: string;
  /** The purchase's status sequence; ordered messages of one purchase go out in this order. */
  sequence: number;
  /** The endpoint asked for per-purchase order when the message was made. */
  ordered: boolean;
  /** `traceparent` of the ingest span; every attempt continues the status change's trace from it. */
  traceContext?: string | null;
}

/** A stored message leased to this process for one attempt (the row as the claim returns it, named as `NewMessage` names it). */
export interface LeasedMessage {
  messageId: string;
  endpointId: string;
  partnerId: string;
  eventType: string;
  payload: string;
  /** Attempts made, this one included. */
  attempts: number;
  eventRecordedAt: Date;
  traceContext: string | null;
  /** Held in per-purchase order: settling it may release the next one of its purchase. */
  ordered: boolean;
}

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

/** An endpoint's success/failure clock after a batch (see `endpoint_health`). */
export interface HealthClock {
  lastSuccessAt: Date | null;
  firstFailureSinceSuccessAt: Date | null;
  /** A recovery noted and not yet announced: a success after enough failures in a row (see `AddEndpointRecovery`). */
  recovery?: { failingSince: Date; failedAttempts: number; recoveredAt: Date };
}

const messageStatusOf: Record<DeliveryPlan['state'], string> = {
  succeeded: 'succeeded',
  scheduled: 'pending',
  exhausted: 'exhausted',
  failed: 'failed',
  endpoint_disabled: 'failed',
};

const nextAttemptOf = (a: AttemptRecord) => (a.plan.state === 'scheduled' ? a.plan.nextAttemptAt : null);

/**
 * Every statement the dispatch path runs on `messages` and `attempts`: store
 * new messages (some already leased for a hand-off), lease due ones, give
 * them back, settle attempts, and read the attempt log in commit order for
 * the attempts relay. Each is one round trip for a whole batch.
 */
export class MessageStore {
  private readonly claimSql = claimDueMessagesSql();

  /** `recoveredAfterFailures`: a success after this many failed attempts in a row is noted as a recovery. */
  constructor(
    private readonly dataSource: DataSource,
    private readonly recoveredAfterFailures = 3,
  ) {
    this.attemptsNotifications = appendNotifications(dataSource, 'attempts');
  }

  /**
   * Inserts messages due now; an existing message id is left as it is. Those
   * in `leased` are stored already leased to this process for their first
   * attempt. `events` (the status events the messages come from, routed or
   * not) go into the events API's log in the same statement. Returns the
   * message ids inserted.
   */
  async insert(rows: readonly NewMessage[], handOff?: { leased: ReadonlySet<string>; leaseSeconds: number }, events: readonly NewStatusEvent[] = []): Promise<string[]> {
    if (rows.length === 0 && events.length === 0) return [];
    const result = await queryRows<{ message_id: string }>(
      this.dataSource,
      `WITH ${statusEventsInsertCte(14)}
       INSERT INTO messages (message_id, event_id, endpoint_id, partner_id, event_type, purchase_id, payload, event_recorded_at, sequence, ordered, trace_context, next_attempt_at,
                             status, attempts, leased_until)
       SELECT m.message_id, m.event_id, m.endpoint_id, m.partner_id, m.event_type, m.purchase_id, m.payload, m.event_recorded_at, m.sequence, m.ordered, m.trace_context, now(),
              CASE WHEN m.leased THEN 'sending' ELSE 'pending' END, CASE WHEN m.leased THEN 1 ELSE 0 END,
              CASE WHEN m.leased THEN now() + make_interval(secs => $13) END
         FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::int[], $10::boolean[], $11::text[], $12::boolean[])
              AS m(message_id, event_id, endpoint_id, partner_id, event_type, purchase_id, payload, event_recorded_at, sequence, ordered, trace_context, leased)
       ON CONFLICT (message_id) DO NOTHING
       RETURNING message_id`,
      [
        rows.map((r) => r.messageId),
        rows.map((r) => r.eventId),
        rows.map((r) => r.endpointId),
        rows.map((r) => r.partnerId),
        rows.map((r) => r.eventType),
        rows.map((r) => r.purchaseId),
        rows.map((r) => r.payload),
        rows.map((r) => r.eventRecordedAt),
        rows.map((r) => r.sequence),
        rows.map((r) => r.ordered),
        rows.map((r) => r.traceContext ?? null),
        rows.map((r) => handOff?.leased.has(r.messageId) ?? false),
        handOff?.leaseSeconds ?? 0,
        ...statusEventsInsertParameters(events),
      ],
    );
    return result.map((r) => r.message_id);
  }

  /** Leases up to `limit` due messages of one lane for `leaseSeconds`, skipping the endpoints in `busyEndpoints`. */
  claimDue(options: { firstAttempts: boolean; leaseSeconds: number; busyEndpoints: readonly string[]; limit: number }): Promise<LeasedMessage[]> {
    return queryRows<LeasedMessage>(this.dataSource, this.claimSql, [options.leaseSeconds, options.firstAttempts, options.busyEndpoints, options.limit]);
  }

  /** Gives back claimed messages not sent (over an endpoint's cap): due again at once, the claim not counted as an attempt. */
  async giveBack(messageIds: readonly string[]): Promise<void> {
    if (messageIds.length === 0) return;
    await this.dataSource.query(`UPDATE messages SET status = 'pending', leased_until = NULL, attempts = attempts - 1 WHERE message_id = ANY($1::text[])`, [messageIds]);
  }

  /** Gives back first attempts handed off by ingest but not sent (shutting down), for whoever runs next. */
  async releaseUnsent(messageIds: readonly string[]): Promise<void> {
    if (messageIds.length === 0) return;
    await this.dataSource.query(`UPDATE messages SET status = 'pending', leased_until = NULL, attempts = 0 WHERE message_id = ANY($1::text[]) AND status = 'sending'`, [messageIds]);
  }

  /** Puts a message back without counting an attempt (circuit open, rate limit), due in `delayMs`. */
  async postpone(messageId: string, delayMs: number): Promise<void> {
    await this.dataSource.query(`UPDATE messages SET status = 'pending', leased_until = NULL, attempts = attempts - 1, next_attempt_at = now() + make_interval(secs => $2) WHERE message_id = $1`, [
      messageId,
      delayMs / 1000,
    ]);
  }

  /** Ends a message without an attempt (its endpoint was deleted or disabled); it can be recovered later. */
  async abandon(messageId: string, reason: string): Promise<void> {
    await this.dataSource.query(`UPDATE messages SET status = 'failed', leased_until = NULL, attempts = attempts - 1, last_error = $2 WHERE message_id = $1`, [messageId, reason]);
  }

  /**
   * Settles a batch of attempts in one statement: the attempt rows (which
   * the attempts relay publishes; the statement notifies it), the messages'
   * new states, and the health clock of the endpoints in `health` (returned
   * after the batch). Atomic on its own; `manager` puts it in the caller's
   * transaction.
   */
  async settle(attempts: readonly AttemptRecord[], health: readonly EndpointOutcomeSummary[], manager?: EntityManager): Promise<Map<string, HealthClock>> {
    if (attempts.length === 0) return new Map();
    const attemptColumns = [
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
      attempts.map(nextAttemptOf),
      attempts.map((a) => a.partnerId),
      attempts.map((a) => a.eventType),
      attempts.map((a) => messageStatusOf[a.plan.state]),
    ];
    const healthColumns = [health.map((s) => s.endpointId), health.map((s) => s.partnerId), health.map((s) => s.lastSuccessAt), health.map((s) => s.firstFailureAfterSuccessAt), health.map((s) => s.failuresAfterSuccess)];
    const [row] = await queryRows<{ clocks: HealthClockRow[] | null }>(
      manager ?? this.dataSource,
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::int[], $7::int[], $8::text[], $9::text[], $10::text[], $11::text[],
                              $12::timestamptz[], $13::text[], $14::text[], $15::text[])
           AS u(message_id, attempt_number, endpoint_id, started_at, finished_at, latency_ms, status_code, error_class, error_message, response_snippet, outcome,
                next_attempt_at, partner_id, event_type, message_status)
       ),
       logged AS (
         INSERT INTO attempts (message_id, attempt_number, endpoint_id, started_at, finished_at, latency_ms, status_code, error_class, error_message, response_snippet, outcome,
                               next_attempt_at, partner_id, event_type)
         SELECT message_id, attempt_number, endpoint_id, started_at, finished_at, latency_ms, status_code, error_class, error_message, response_snippet, outcome,
                next_attempt_at, partner_id, event_type
           FROM input
         ON CONFLICT (message_id, attempt_number) DO NOTHING
         RETURNING pg_notify($16, $17) AS notified
       ),
       settled AS (
         UPDATE messages m SET status = i.message_status, next_attempt_at = i.next_attempt_at, leased_until = NULL, last_attempt_at = i.finished_at,
                last_status_code = i.status_code, last_error = i.error_class
           FROM input i
          WHERE m.message_id = i.message_id
         RETURNING 1
       ),
       health AS (
         INSERT INTO endpoint_health AS h (endpoint_id, partner_id, last_success_at, first_failure_since_success_at, consecutive_failures)
         SELECT * FROM unnest($18::text[], $19::text[], $20::timestamptz[], $21::timestamptz[], $22::int[]) ORDER BY 1
         ON CONFLICT (endpoint_id) DO UPDATE SET
           last_success_at = GREATEST(h.last_success_at, EXCLUDED.last_success_at),
           first_failure_since_success_at = CASE WHEN EXCLUDED.last_success_at IS NOT NULL THEN EXCLUDED.first_failure_since_success_at
                                                 ELSE COALESCE(h.first_failure_since_success_at, EXCLUDED.first_failure_since_success_at) END,
           consecutive_failures = CASE WHEN EXCLUDED.last_success_at IS NOT NULL THEN EXCLUDED.consecutive_failures
                                       ELSE h.consecutive_failures + EXCLUDED.consecutive_failures END,
           reported_at = CASE WHEN EXCLUDED.last_success_at IS NOT NULL THEN NULL ELSE h.reported_at END,
           -- h is the row before this statement: a success after a long enough failing spell notes the recovery (kept until announced).
           recovered_from = CASE WHEN h.recovered_from IS NULL AND EXCLUDED.last_success_at IS NOT NULL AND h.consecutive_failures >= $23 THEN h.first_failure_since_success_at ELSE h.recovered_from END,
           recovered_after_failures = CASE WHEN h.recovered_from IS NULL AND EXCLUDED.last_success_at IS NOT NULL AND h.consecutive_failures >= $23 THEN h.consecutive_failures ELSE h.recovered_after_failures END,
           recovered_at = CASE WHEN h.recovered_from IS NULL AND EXCLUDED.last_success_at IS NOT NULL AND h.consecutive_failures >= $23 THEN EXCLUDED.last_success_at ELSE h.recovered_at END
         RETURNING endpoint_id, last_success_at, first_failure_since_success_at, recovered_from, recovered_after_failures, recovered_at
       )
       SELECT (SELECT count(*) FROM logged) AS logged, (SELECT count(*) FROM settled) AS settled,
              (SELECT json_agg(json_build_object('endpoint_id', endpoint_id, 'last_success_at', last_success_at, 'first_failure_since_success_at', first_failure_since_success_at,
                                                 'recovered_from', recovered_from, 'recovered_after_failures', recovered_after_failures, 'recovered_at', recovered_at))
                 FROM health) AS clocks`,
      [...attemptColumns, this.attemptsNotifications.channel, this.attemptsNotifications.payload, ...healthColumns, this.recoveredAfterFailures],
    );
    return new Map((row?.clocks ?? []).map((c) => [c.endpoint_id, healthClockOf(c)]));
  }

  /** Forgets a recovery once its `endpoint.recovered` messages are stored (in the same transaction). */
  async clearRecovery(manager: EntityManager, endpointId: string, failingSince: Date): Promise<void> {
    await manager.query('UPDATE endpoint_health SET recovered_from = NULL, recovered_after_failures = NULL, recovered_at = NULL WHERE endpoint_id = $1 AND recovered_from = $2', [endpointId, failingSince]);
  }

  /** Marks an endpoint reported for disabling, once per failing spell; true if this call did. */
  async claimHealthReport(manager: EntityManager, endpointId: string, at: string): Promise<boolean> {
    const rows = await queryRows(manager, 'UPDATE endpoint_health SET reported_at = $2 WHERE endpoint_id = $1 AND reported_at IS NULL RETURNING endpoint_id', [endpointId, at]);
    return rows.length > 0;
  }

  /** What the attempts relay listens for: the event store's channel, with a payload of its own. */
  readonly attemptsNotifications: { channel: string; payload: string };

  /**
   * Attempt rows after the cursor (a `log_position`), only of transactions
   * that have all ended, in (transaction, position) order — the event store's
   * rule, so a reader never skips a row whose transaction commits late — as
   * stored events for the relay. A cursor whose row retention has deleted
   * reads from the start of what is left (published again at least once).
   */
  async readAttemptsPage(after: bigint, limit: number): Promise<ReadPage<DeliveryAttemptV1>> {
    const rows = await queryRows<AttemptLogRow & { held_back: boolean }>(
      this.dataSource,
      `WITH cursor AS (
         SELECT coalesce((SELECT c.transaction_id FROM attempts c WHERE c.log_position = $1::bigint), '0'::xid8) AS tx, pg_snapshot_xmin(pg_current_snapshot()) AS horizon
       )
       SELECT p.*,
              EXISTS (SELECT 1 FROM attempts h WHERE h.transaction_id >= cursor.horizon AND (h.transaction_id, h.log_position) > (cursor.tx, $1::bigint)) AS held_back
         FROM cursor
         LEFT JOIN LATERAL (
           SELECT a.log_position::text AS log_position, a.message_id, a.attempt_number, a.endpoint_id, a.partner_id, a.event_type, a.started_at, a.finished_at, a.latency_ms,
                  a.status_code, a.error_class, a.outcome, a.next_attempt_at
             FROM attempts a
            WHERE a.transaction_id < cursor.horizon AND (a.transaction_id, a.log_position) > (cursor.tx, $1::bigint)
            ORDER BY a.transaction_id, a.log_position
            LIMIT $2
         ) p ON true`,
      [after.toString(), limit],
    );
    const events = rows.filter((row) => row.log_position !== null).map(storedAttemptOf);
    return { events, heldBack: rows[0]?.held_back ?? false };
  }
}

interface HealthClockRow {
  endpoint_id: string;
  last_success_at: string | null;
  first_failure_since_success_at: string | null;
  recovered_from: string | null;
  recovered_after_failures: number | null;
  recovered_at: string | null;
}

function healthClockOf(c: HealthClockRow): HealthClock {
  const clock: HealthClock = {
    lastSuccessAt: c.last_success_at ? new Date(c.last_success_at) : null,
    firstFailureSinceSuccessAt: c.first_failure_since_success_at ? new Date(c.first_failure_since_success_at) : null,
  };
  if (c.recovered_from && c.recovered_at && c.recovered_after_failures) {
    clock.recovery = { failingSince: new Date(c.recovered_from), failedAttempts: c.recovered_after_failures, recoveredAt: new Date(c.recovered_at) };
  }
  return clock;
}

interface AttemptLogRow {
  log_position: string | null;
  message_id: string;
  attempt_number: number;
  endpoint_id: string;
  partner_id: string | null;
  event_type: string | null;
  started_at: Date;
  finished_at: Date;
  latency_ms: number;
  status_code: number | null;
  error_class: string | null;
  outcome: DeliveryPlan['state'];
  next_attempt_at: Date | null;
}

export const attemptLogEventType = 'AttemptMade';
/** Attempt rows of a pod still on the previous release during a roll: their `AttemptMade` event in the event store is what gets published. */
export const attemptLoggedByPreviousRelease = 'AttemptLoggedByPreviousRelease';

function storedAttemptOf(row: AttemptLogRow): StoredEvent<DeliveryAttemptV1> {
  return {
    // Deterministic: a republished attempt carries the same CloudEvents id.
    eventId: `${row.message_id}:${row.attempt_number}`,
    globalPosition: BigInt(row.log_position ?? '0'),
    streamId: row.message_id,
    streamVersion: row.attempt_number,
    // A row written by a delivery of the previous release (no partner id) goes out as that release's AttemptMade event instead.
    type: row.partner_id === null ? attemptLoggedByPreviousRelease : attemptLogEventType,
    data: {
      message_id: row.message_id,
      endpoint_id: row.endpoint_id,
      partner_id: row.partner_id ?? '',
      event_type: row.event_type ?? '',
      attempt_number: row.attempt_number,
      started_at: row.started_at.toISOString(),
      latency_ms: row.latency_ms,
      status_code: row.status_code,
      error_class: row.error_class,
      outcome: row.outcome,
      next_attempt_at: row.next_attempt_at?.toISOString() ?? null,
    },
    metadata: {},
    recordedAt: row.finished_at,
  };
}
