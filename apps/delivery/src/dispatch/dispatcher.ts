import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { queryRows } from '@gancho/persistence';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  CircuitBreaker,
  classifyAttempt,
  parseRetrySchedule,
  planNextAttempt,
  TokenBucket,
  type AttemptErrorClass,
  type AttemptResult,
  type DeliveryPlan,
  type RetrySchedule,
} from '@gancho/delivery-domain';
import { PostgresEventStore } from '@gancho/event-store';
import { contextFromTraceparent, injectTraceContext, recordError, SpanKind, SpanStatusCode, withSpan } from '@gancho/telemetry';
import { signWebhook } from '@gancho/webhook-signing';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { DeliveryConfig } from '../delivery.config';
import { ActiveCampaignDestination } from '../destinations/activecampaign/activecampaign-destination';
import { DeliveryMetrics } from '../metrics/delivery-metrics';
import type { LeasedMessage } from '../ingest/status-event.consumer';
import { EndpointDirectory, type RoutedEndpoint } from '../routing/endpoint-directory';
import { recordAttempts, RecentSuccesses, type AttemptOutcomeRecord, type AttemptRecord } from './attempt-recorder';
import { claimDueMessagesSql } from './claim-query';
import { GroupCommit } from './group-commit';
import { WEBHOOK_SENDER, type SendResult, type WebhookSenderPort } from './sender';

/** A message leased to this process for one attempt, whether claimed from the table or handed over by ingest. */
export type ClaimedMessage = LeasedMessage;

type Lane = 'first' | 'retry';

const claimSql = claimDueMessagesSql();

const errorClasses: readonly AttemptErrorClass[] = ['timeout', 'connect_refused', 'dns', 'tls', 'reset', 'ssrf_blocked', 'invalid_url', 'body_too_large', 'other'];

/**
 * Sends due messages. Two lanes, so first attempts never queue behind
 * retries; a global cap on attempts in flight and a cap per endpoint, so an
 * endpoint that hangs until timeout holds at most its own share of workers.
 * A message is leased while it is being sent (`FOR UPDATE SKIP LOCKED`, then
 * `leased_until`), so no two workers or replicas send it at once, and a crash
 * leaves it to be taken again when the lease ends.
 */
@Injectable()
export class Dispatcher implements OnApplicationShutdown {
  private readonly logger = new Logger('Dispatcher');
  private readonly store: PostgresEventStore;
  private readonly schedule: RetrySchedule;
  private readonly inFlightByEndpoint = new Map<string, number>();
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly laneInFlight: Record<Lane, Set<Promise<void>>> = { first: new Set(), retry: new Set() };
  /** First attempts promised to ingest and not yet launched (see reserveFirstAttempts). */
  private reservedFirstAttempts = 0;
  private readonly wakers = new Map<Lane, () => void>();
  private loops: Promise<void>[] = [];
  private running = false;
  private readonly leaseMs: number;
  /** Finished attempts, written in batches (one transaction for all that finish while the last batch commits). */
  private readonly attemptLog: GroupCommit<AttemptRecord>;
  /** Endpoints whose destination is an ActiveCampaign account rather than a webhook URL. */
  private readonly activeCampaign: ActiveCampaignDestination;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(WEBHOOK_SENDER) private readonly sender: WebhookSenderPort,
    private readonly directory: EndpointDirectory,
    private readonly config: ConfigService<DeliveryConfig, true>,
    private readonly metrics: DeliveryMetrics,
  ) {
    this.store = new PostgresEventStore(dataSource);
    this.schedule = parseRetrySchedule(config.get('RETRY_SCHEDULE', { infer: true }));
    // An attempt ends by the request timeout; the margin covers recording it.
    // After a crash, the messages it held are taken again when this runs out.
    this.leaseMs = config.get('REQUEST_TIMEOUT_MS', { infer: true }) + 5_000;
    // Each process appends its attempt events to a stream of its own: batches of one writer never wait on another's lock.
    const streamId = `delivery-attempts:${randomUUID()}`;
    const disableAfterMs = config.get('ENDPOINT_DISABLE_AFTER_MS', { infer: true });
    const healthyEndpoints = new RecentSuccesses(5_000);
    this.attemptLog = new GroupCommit(
      (attempts) => this.dataSource.transaction((manager) => recordAttempts(manager, this.store, attempts, { streamId, disableAfterMs, healthyEndpoints })),
      config.get('DISPATCH_CONCURRENCY', { infer: true }),
    );
    this.activeCampaign = new ActiveCampaignDestination(dataSource, config);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = (['first', 'retry'] as const).map((lane) => this.run(lane));
  }

  /** New messages are due now: wake the first-attempt lane. */
  wake(): void {
    this.wakers.get('first')?.();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    for (const wake of this.wakers.values()) wake();
    await Promise.all(this.loops);
    await Promise.allSettled([...this.inFlight]);
    await this.sender.close();
    await this.activeCampaign.close();
  }

  private get concurrency(): number {
    return this.config.get('DISPATCH_CONCURRENCY', { infer: true });
  }

  /** Slots a lane may use now: three quarters of all at most, so each lane keeps at least a quarter and neither starves the other. */
  private freeSlots(lane: Lane): number {
    const laneShare = Math.max(1, Math.floor((this.concurrency * 3) / 4));
    const reserved = lane === 'first' ? this.reservedFirstAttempts : 0;
    return Math.min(laneShare - this.laneInFlight[lane].size - reserved, this.concurrency - this.inFlight.size - this.reservedFirstAttempts);
  }

  /** Sends a leased message; its endpoint's in-flight count was taken when it was claimed or reserved. */
  private launch(lane: Lane, message: ClaimedMessage, via: 'handoff' | 'claim'): void {
    this.metrics.sendStarted(via);
    const attempt = this.attempt(message).finally(() => {
      this.inFlight.delete(attempt);
      this.laneInFlight[lane].delete(attempt);
      this.releaseEndpointSlot(message.endpoint_id);
      // A settled message may release the next one of an ordered purchase, in either lane.
      for (const wake of [...this.wakers.values()]) wake();
    });
    this.inFlight.add(attempt);
    this.laneInFlight[lane].add(attempt);
  }

  private releaseEndpointSlot(endpointId: string): void {
    const left = (this.inFlightByEndpoint.get(endpointId) ?? 1) - 1;
    if (left <= 0) this.inFlightByEndpoint.delete(endpointId);
    else this.inFlightByEndpoint.set(endpointId, left);
  }

  /**
   * Ingest offers new messages before storing them: those this process can
   * send at once (unordered, endpoint under its cap, a first-attempt slot free)
   * are stored already leased and handed over by `sendHandedOff`, which saves
   * each of them a claim (a query and a row update). Ordered messages always
   * go through the claim, which enforces their order. Returns the ids taken.
   */
  reserveFirstAttempts(candidates: readonly { messageId: string; endpointId: string; ordered: boolean }[]): Set<string> {
    const taken = new Set<string>();
    if (!this.running) return taken;
    const cap = this.config.get('ENDPOINT_CONCURRENCY', { infer: true });
    let free = this.freeSlots('first');
    for (const candidate of candidates) {
      if (free <= 0) break;
      if (candidate.ordered) continue;
      const n = this.inFlightByEndpoint.get(candidate.endpointId) ?? 0;
      if (n >= cap) continue;
      this.inFlightByEndpoint.set(candidate.endpointId, n + 1);
      taken.add(candidate.messageId);
      free--;
    }
    this.reservedFirstAttempts += taken.size;
    return taken;
  }

  /**
   * Sends the reserved messages that were stored (leased, attempt 1) and gives
   * back the slots of the rest (already stored before: a redelivered event).
   */
  async sendHandedOff(reserved: ReadonlyMap<string, { endpointId: string }>, stored: readonly ClaimedMessage[]): Promise<void> {
    this.reservedFirstAttempts -= reserved.size;
    const storedIds = new Set(stored.map((m) => m.message_id));
    for (const [messageId, { endpointId }] of reserved) if (!storedIds.has(messageId)) this.releaseEndpointSlot(endpointId);
    if (!this.running) {
      // Shutting down: put them back for whoever runs next, rather than wait for their leases.
      for (const message of stored) this.releaseEndpointSlot(message.endpoint_id);
      if (stored.length > 0) {
        await this.dataSource.query(`UPDATE messages SET status = 'pending', leased_until = NULL, attempts = 0 WHERE message_id = ANY($1::text[]) AND status = 'sending'`, [
          stored.map((m) => m.message_id),
        ]);
      }
      return;
    }
    for (const message of stored) this.launch('first', message, 'handoff');
  }

  /** How long a message stays leased to the process sending it. */
  get leaseSeconds(): number {
    return this.leaseMs / 1000;
  }

  private async run(lane: Lane): Promise<void> {
    while (this.running) {
      try {
        const free = this.freeSlots(lane);
        const claimed = free > 0 ? await this.claim(lane, Math.min(free, 100)) : [];
        for (const message of claimed) this.launch(lane, message, 'claim');
        if (claimed.length === 0 || free <= claimed.length) {
          await this.sleep(lane, this.config.get('DISPATCH_POLL_MS', { infer: true }));
          // Attempts finish in batches (one commit each); let the whole batch settle so one claim refills all their slots.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } catch (error) {
        this.logger.error(`${lane} lane: ${error instanceof Error ? error.message : String(error)}`);
        await this.sleep(lane, 1000);
      }
    }
  }

  /** Leases up to `limit` due messages of a lane, skipping endpoints already at their concurrency cap. */
  private async claim(lane: Lane, limit: number): Promise<ClaimedMessage[]> {
    const cap = this.config.get('ENDPOINT_CONCURRENCY', { infer: true });
    const busy = [...this.inFlightByEndpoint.entries()].filter(([, n]) => n >= cap).map(([id]) => id);
    const claimed = await queryRows<ClaimedMessage>(
      this.dataSource,
      claimSql,
      [this.leaseMs / 1000, lane === 'first', busy, limit],
    );
    // The cap can be exceeded by one claim batch; keep per-endpoint counts honest and give back extras.
    const kept: ClaimedMessage[] = [];
    const giveBack: string[] = [];
    for (const message of claimed) {
      const n = this.inFlightByEndpoint.get(message.endpoint_id) ?? 0;
      if (n >= cap) {
        giveBack.push(message.message_id);
        continue;
      }
      this.inFlightByEndpoint.set(message.endpoint_id, n + 1);
      kept.push(message);
    }
    if (giveBack.length > 0) {
      await this.dataSource.query(`UPDATE messages SET status = 'pending', leased_until = NULL, attempts = attempts - 1 WHERE message_id = ANY($1::text[])`, [giveBack]);
    }
    return kept;
  }

  /** Puts a message back without counting an attempt (circuit open, rate limit). */
  private async postpone(messageId: string, delayMs: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE messages SET status = 'pending', leased_until = NULL, attempts = attempts - 1, next_attempt_at = now() + make_interval(secs => $2) WHERE message_id = $1`,
      [messageId, delayMs / 1000],
    );
  }

  private async abandon(messageId: string, reason: string): Promise<void> {
    await this.dataSource.query(`UPDATE messages SET status = 'failed', leased_until = NULL, attempts = attempts - 1, last_error = $2 WHERE message_id = $1`, [messageId, reason]);
  }

  private breakerOf(endpointId: string): CircuitBreaker {
    let breaker = this.breakers.get(endpointId);
    if (!breaker) this.breakers.set(endpointId, (breaker = new CircuitBreaker()));
    return breaker;
  }

  private bucketOf(endpoint: RoutedEndpoint): TokenBucket | undefined {
    const rate = endpoint.state.rate_limit_per_second;
    if (!rate) return undefined;
    let bucket = this.buckets.get(endpoint.state.endpoint_id);
    if (!bucket || bucket.refillPerSecond !== rate) this.buckets.set(endpoint.state.endpoint_id, (bucket = new TokenBucket({ capacity: rate, refillPerSecond: rate })));
    return bucket;
  }

  /** One attempt of one leased message, from the checks before sending to the recorded outcome. */
  private async attempt(message: ClaimedMessage): Promise<void> {
    try {
      const endpoint = this.directory.get(message.endpoint_id);
      // A deleted or disabled endpoint receives nothing; the message can be recovered after re-enabling.
      if (!endpoint) return await this.abandon(message.message_id, 'endpoint_deleted');
      if (!endpoint.state.enabled) return await this.abandon(message.message_id, 'endpoint_disabled');
      const now = new Date();
      const breaker = this.breakerOf(message.endpoint_id);
      if (!breaker.canSend(now)) {
        const openUntil = breaker.snapshot().openUntil;
        return await this.postpone(message.message_id, Math.max(1000, (openUntil?.getTime() ?? now.getTime() + 1000) - now.getTime()));
      }
      const taken = this.bucketOf(endpoint)?.tryTake(now);
      if (taken && !taken.ok) return await this.postpone(message.message_id, taken.retryInMs);

      if (endpoint.activeCampaign) return await this.attemptActiveCampaign(message, { ...endpoint, activeCampaign: endpoint.activeCampaign });
      const startedAt = new Date();
      const result = await this.deliverWebhook(message, endpoint, startedAt);
      const finishedAt = new Date();
      await this.settle(message, endpoint, {
        startedAt,
        finishedAt,
        latencyMs: result.elapsedMs,
        statusCode: result.kind === 'response' ? result.status : null,
        errorClass: result.kind === 'error' ? result.errorClass : null,
        errorMessage: result.kind === 'error' ? result.message.slice(0, 500) : null,
        responseSnippet: result.kind === 'response' ? result.bodySnippet : null,
        plan: this.plan(result, message.attempts, finishedAt),
      });
    } catch (error) {
      // Our own failure (database, a bug): the lease runs out and the message is taken again.
      this.logger.error(`message ${message.message_id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * The same attempt for an ActiveCampaign endpoint: its sequence of API calls
   * is one attempt, recorded, planned and counted like a webhook's; nothing is
   * counted when the account's rate limit gives the message back.
   */
  private async attemptActiveCampaign(message: ClaimedMessage, endpoint: Parameters<ActiveCampaignDestination['deliver']>[0]['endpoint']): Promise<void> {
    const outcome = await this.activeCampaign.deliver({ messageId: message.message_id, payload: message.payload, attemptsMade: message.attempts, endpoint });
    if (outcome.kind === 'postpone') return this.postpone(message.message_id, outcome.delayMs);
    const { kind: _attempted, ...attempt } = outcome;
    await this.settle(message, endpoint, attempt);
  }

  /**
   * What every attempt ends with, webhook or ActiveCampaign: metrics, the
   * endpoint's circuit, and the record, which resolves when the batch holding
   * it has committed (until then the message stays leased).
   */
  private async settle(
    message: ClaimedMessage,
    endpoint: RoutedEndpoint,
    attempt: AttemptOutcomeRecord,
  ): Promise<void> {
    const { plan, finishedAt } = attempt;
    this.metrics.attemptMade({
      outcome: plan.state,
      statusCode: attempt.statusCode,
      errorClass: attempt.errorClass,
      latencyMs: attempt.latencyMs,
      eventRecordedAt: new Date(message.event_recorded_at),
      respondedAt: finishedAt,
      firstAttempt: message.attempts === 1,
    });
    this.logger.debug(
      `message ${message.message_id} attempt ${message.attempts} to ${message.endpoint_id}: ${attempt.statusCode ?? attempt.errorClass} in ${attempt.latencyMs} ms, ${plan.state}`,
    );
    const breaker = this.breakerOf(message.endpoint_id);
    if (plan.state === 'succeeded') breaker.recordSuccess(finishedAt);
    else breaker.recordFailure(finishedAt);
    await this.attemptLog.add({
      ...attempt,
      messageId: message.message_id,
      endpointId: message.endpoint_id,
      partnerId: message.partner_id,
      eventType: message.event_type,
      attemptNumber: message.attempts,
      endpointUrl: endpoint.state.url,
    });
  }

  /** Signs the message with the endpoint's current secrets (two during a rotation) and POSTs it. */
  private deliverWebhook(message: ClaimedMessage, endpoint: RoutedEndpoint, startedAt: Date): Promise<SendResult> {
    const secrets = this.directory.signingSecrets(endpoint, startedAt);
    const signed = { ...endpoint.state.headers, ...signWebhook({ id: message.message_id, timestamp: startedAt, body: message.payload, secrets }) };
    return this.send(message, endpoint, signed);
  }

  /**
   * The POST, in an HTTP client span that continues the status change's trace
   * (stored with the message at ingest) and whose context the partner gets as
   * `traceparent`. A partner's 4xx/5xx marks the span as an error, not our code.
   */
  private send(message: ClaimedMessage, endpoint: RoutedEndpoint, headers: Record<string, string>): Promise<SendResult> {
    const url = new URL(endpoint.state.url);
    return withSpan(
      'POST',
      {
        'http.request.method': 'POST',
        'server.address': url.hostname,
        'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        'url.scheme': url.protocol.replace(':', ''),
        'gancho.message.id': message.message_id,
        'gancho.endpoint.id': message.endpoint_id,
        'http.request.resend_count': message.attempts - 1,
      },
      async (span) => {
        const result = await this.sender.send({ url: endpoint.state.url, headers: injectTraceContext({ ...headers }), body: message.payload });
        if (result.kind === 'response') {
          span.setAttribute('http.response.status_code', result.status);
          if (result.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
        } else {
          recordError(span, new Error(result.errorClass));
          span.setAttribute('error.type', result.errorClass);
        }
        return result;
      },
      { kind: SpanKind.CLIENT, parent: contextFromTraceparent(message.trace_context, ROOT_CONTEXT) },
    );
  }

  private plan(result: SendResult, attemptsMade: number, now: Date): DeliveryPlan {
    const attemptResult: AttemptResult =
      result.kind === 'response'
        ? { kind: 'response', status: result.status, headers: result.headers, elapsedMs: result.elapsedMs }
        : { kind: 'error', errorClass: errorClasses.includes(result.errorClass as AttemptErrorClass) ? (result.errorClass as AttemptErrorClass) : 'other', message: result.message };
    const decision = classifyAttempt(attemptResult, { now });
    return planNextAttempt({ decision, attemptsMade, schedule: this.schedule, now, random: Math.random });
  }

  private sleep(lane: Lane, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wakers = this.wakers;
      function done() {
        clearTimeout(timer);
        if (wakers.get(lane) === done) wakers.delete(lane);
        resolve();
      }
      this.wakers.set(lane, done);
    });
  }
}
