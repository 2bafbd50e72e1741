import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { queryRows } from '@gancho/persistence';
import { ServiceMetrics } from '@gancho/service-kit';
import { Counter, Gauge, Histogram, httpDurationBuckets } from '@gancho/telemetry';
import type { DeliveryPlan } from '@gancho/delivery-domain';
import type { DeliveryConfig } from '../delivery.config';
import { EndpointDirectory } from '../routing/endpoint-directory';

/** A retry due longer than this has not been picked up in time: the dispatcher is behind. */
export const retryOverdueAfterSeconds = 60;

/** End-to-end latency spans seconds (first attempts) to days (retries). */
const endToEndBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600, 3 * 24 * 3600];

export interface AttemptObservation {
  outcome: DeliveryPlan['state'];
  statusCode: number | null;
  errorClass: string | null;
  latencyMs: number;
  /** When the journey recorded the status event; end-to-end latency runs from here to the partner's response. */
  eventRecordedAt: Date;
  respondedAt: Date;
  firstAttempt: boolean;
}

/**
 * Delivery's metrics on the service's /metrics: what each attempt did, how
 * long partners took, how long a status change took to reach them, and the
 * backlogs an operator alerts on (retries due and overdue, consumer lag,
 * disabled endpoints).
 */
@Injectable()
export class DeliveryMetrics {
  private readonly attempts: Counter<'outcome' | 'status_class'>;
  private readonly attemptDuration: Histogram<'http_request_method' | 'http_response_status_code' | 'error_type'>;
  private readonly endToEnd: Histogram<'outcome' | 'attempt'>;
  private readonly started: Counter<'via'>;

  constructor(metrics: ServiceMetrics, directory: EndpointDirectory, @InjectDataSource() dataSource: DataSource, config: ConfigService<DeliveryConfig, true>) {
    const registers = [metrics.registry];
    this.attempts = new Counter({
      name: 'gancho_delivery_attempts_total',
      help: 'Webhook delivery attempts by outcome (succeeded, scheduled, exhausted, failed, endpoint_disabled) and response status class (2xx…5xx, or error when no response came).',
      labelNames: ['outcome', 'status_class'],
      registers,
    });
    this.attemptDuration = new Histogram({
      name: 'http_client_request_duration_seconds',
      help: 'Duration of webhook POSTs to partner endpoints (OpenTelemetry http.client.request.duration).',
      labelNames: ['http_request_method', 'http_response_status_code', 'error_type'],
      buckets: [...httpDurationBuckets],
      registers,
    });
    this.endToEnd = new Histogram({
      name: 'gancho_delivery_end_to_end_duration_seconds',
      help: "From the journey recording a status event to the partner's response to the attempt, by outcome and by first attempt or retry.",
      labelNames: ['outcome', 'attempt'],
      buckets: endToEndBuckets,
      registers,
    });
    this.started = new Counter({
      name: 'gancho_delivery_sends_started_total',
      help: 'Messages this process started sending, by how it got them: "handoff" (straight from ingest, stored already leased) or "claim" (leased from the table).',
      labelNames: ['via'],
      registers,
    });
    new Gauge({
      name: 'gancho_delivery_retries',
      help: `Messages waiting for a retry: state "due" (its time has come), "overdue" (due for more than ${retryOverdueAfterSeconds} s), "scheduled" (later).`,
      labelNames: ['state'],
      registers,
      async collect() {
        const [row] = await queryRows<{ due: number; overdue: number; scheduled: number }>(
          dataSource,
          `SELECT count(*) FILTER (WHERE next_attempt_at <= now())::int AS due,
                  count(*) FILTER (WHERE next_attempt_at < now() - make_interval(secs => $1))::int AS overdue,
                  count(*) FILTER (WHERE next_attempt_at > now())::int AS scheduled
             FROM messages WHERE status IN ('pending', 'sending') AND attempts > 0`,
          [retryOverdueAfterSeconds],
        );
        this.set({ state: 'due' }, row?.due ?? 0);
        this.set({ state: 'overdue' }, row?.overdue ?? 0);
        this.set({ state: 'scheduled' }, row?.scheduled ?? 0);
      },
    });
    new Gauge({
      name: 'gancho_endpoints',
      help: 'Endpoints in the routing table, by state (enabled, disabled, held_back: a state this release cannot fully read, so it sends nothing) and, for disabled ones, reason.',
      labelNames: ['state', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const { enabled, reason, count } of directory.countsByState()) this.set({ state: enabled ? 'enabled' : 'disabled', reason: reason ?? '' }, count);
        this.set({ state: 'held_back', reason: 'not_understood' }, directory.heldBackCount);
      },
    });
    metrics.trackConsumerGroup(config.get('STATUS_CONSUMER_GROUP', { infer: true }), [config.get('PURCHASE_STATUS_TOPIC', { infer: true })]);
  }

  sendStarted(via: 'handoff' | 'claim'): void {
    this.started.inc({ via });
  }

  attemptMade(attempt: AttemptObservation): void {
    const statusClass = attempt.statusCode === null ? 'error' : `${Math.floor(attempt.statusCode / 100)}xx`;
    this.attempts.inc({ outcome: attempt.outcome, status_class: statusClass });
    this.attemptDuration.observe({ http_request_method: 'POST', http_response_status_code: attempt.statusCode === null ? '' : String(attempt.statusCode), error_type: attempt.errorClass ?? '' }, attempt.latencyMs / 1000);
    if (attempt.statusCode !== null) {
      this.endToEnd.observe({ outcome: attempt.outcome, attempt: attempt.firstAttempt ? 'first' : 'retry' }, Math.max(0, (attempt.respondedAt.getTime() - attempt.eventRecordedAt.getTime()) / 1000));
    }
  }
}
