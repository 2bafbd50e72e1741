import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { EndpointGate, parseRetrySchedule } from '@gancho/delivery-domain';
import { PostgresEventStore } from '@gancho/event-store';
import type { DeliveryConfig } from '../delivery.config';
import { ActiveCampaignDestination } from '../destinations/activecampaign/activecampaign-destination';
import type { Destination } from '../destinations/destination';
import { tokenRequestTimeoutMs, WebhookDestination } from '../destinations/webhook/webhook-destination';
import type { FirstAttemptHandOff } from '../ingest/status-event.consumer';
import { DeliveryMetrics } from '../metrics/delivery-metrics';
import { EndpointDirectory, type RoutedEndpoint } from '../routing/endpoint-directory';
import { OperationalMessages } from '../operational/operational-messages';
import { AttemptRecorder } from './attempt-recorder';
import { GroupCommit } from './group-commit';
import { MessageStore, type AttemptOutcomeRecord, type AttemptRecord, type LeasedMessage } from './message-store';
import { DispatchScheduler } from './scheduler';
import { WEBHOOK_SENDER, type WebhookSenderPort } from './sender';

/** How long a message to a held-back endpoint waits before it is looked at again. */
const heldBackRetryMs = 60_000;

/**
 * Sends leased messages and settles each attempt. The parts, each with one
 * job: the scheduler decides when (lanes, slots, leases, hand-off from
 * ingest), the endpoint gate whether now (circuit, rate limit), a destination
 * how (a signed webhook, or ActiveCampaign's API), and the message store
 * writes what happened (batched: every attempt that finishes while the last
 * batch commits shares the next statement).
 */
@Injectable()
export class Dispatcher implements FirstAttemptHandOff, OnApplicationShutdown {
  private readonly logger = new Logger('Dispatcher');
  private readonly scheduler: DispatchScheduler;
  private readonly gate = new EndpointGate();
  private readonly webhook: Destination;
  private readonly activeCampaign: Destination;
  private readonly attemptLog: GroupCommit<AttemptRecord>;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @Inject(WEBHOOK_SENDER) sender: WebhookSenderPort,
    private readonly messages: MessageStore,
    private readonly directory: EndpointDirectory,
    config: ConfigService<DeliveryConfig, true>,
    private readonly metrics: DeliveryMetrics,
    events: PostgresEventStore,
  ) {
    const schedule = parseRetrySchedule(config.get('RETRY_SCHEDULE', { infer: true }));
    this.webhook = new WebhookDestination(sender, directory, schedule);
    this.activeCampaign = new ActiveCampaignDestination(dataSource, config);
    const recorder = new AttemptRecorder(dataSource, messages, events, config.get('ENDPOINT_DISABLE_AFTER_MS', { infer: true }), {
      messages: new OperationalMessages(directory),
      onStored: () => this.scheduler.wake('first'),
    });
    this.attemptLog = new GroupCommit((attempts) => recorder.record(attempts), config.get('DISPATCH_CONCURRENCY', { infer: true }));
    this.scheduler = new DispatchScheduler(messages, (message, via) => this.attempt(message, via), {
      concurrency: config.get('DISPATCH_CONCURRENCY', { infer: true }),
      endpointConcurrency: config.get('ENDPOINT_CONCURRENCY', { infer: true }),
      // An attempt ends by the request timeout (after a token request's, for OAuth endpoints); the margin covers recording it.
      // After a crash, the messages it held are taken again when this runs out.
      leaseSeconds: (config.get('REQUEST_TIMEOUT_MS', { infer: true }) + tokenRequestTimeoutMs + 5_000) / 1000,
      pollMs: config.get('DISPATCH_POLL_MS', { infer: true }),
      idlePollMaxMs: config.get('DISPATCH_IDLE_POLL_MAX_MS', { infer: true }),
      log: (message) => this.logger.error(message),
    });
  }

  start(): void {
    this.scheduler.start();
  }

  /** New messages are due now: wake the first-attempt lane. */
  wake(): void {
    this.scheduler.wake('first');
  }

  get leaseSeconds(): number {
    return this.scheduler.leaseSeconds;
  }

  reserveFirstAttempts(candidates: readonly { messageId: string; endpointId: string; ordered: boolean }[]): Set<string> {
    return this.scheduler.reserveFirstAttempts(candidates);
  }

  sendHandedOff(reserved: ReadonlyMap<string, { endpointId: string }>, stored: readonly LeasedMessage[]): Promise<void> {
    return this.scheduler.sendHandedOff(reserved, stored);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.scheduler.stop();
    await this.attemptLog.flushed();
    await Promise.all([this.webhook.close(), this.activeCampaign.close()]);
  }

  /** One attempt of one leased message, from the checks before sending to the recorded outcome. */
  private async attempt(message: LeasedMessage, via: 'handoff' | 'claim'): Promise<void> {
    this.metrics.sendStarted(via);
    try {
      const endpoint = this.directory.get(message.endpointId);
      // Held back (its state is from a newer release): the message waits for a delivery that can read it.
      if (!endpoint && this.directory.heldBackState(message.endpointId)) return await this.postpone(message, heldBackRetryMs);
      // A deleted or disabled endpoint receives nothing; the message can be recovered after re-enabling.
      if (!endpoint) return await this.messages.abandon(message.messageId, 'endpoint_deleted');
      if (!endpoint.state.enabled) return await this.messages.abandon(message.messageId, 'endpoint_disabled');
      const admitted = this.gate.admit(message.endpointId, endpoint.state.rate_limit_per_second, new Date());
      if (admitted.kind === 'postpone') return await this.postpone(message, admitted.delayMs);

      const destination = endpoint.activeCampaign ? this.activeCampaign : this.webhook;
      const outcome = await destination.deliver(message, endpoint);
      if (outcome.kind === 'postpone') return await this.postpone(message, outcome.delayMs);
      const { kind: _attempted, ...attempt } = outcome;
      await this.settle(message, endpoint, attempt);
    } catch (error) {
      // Our own failure (database, a bug): the lease runs out and the message is taken again.
      this.logger.error(`message ${message.messageId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Gives the message back without counting an attempt, and has its lane look again when it is due. */
  private async postpone(message: LeasedMessage, delayMs: number): Promise<void> {
    await this.messages.postpone(message.messageId, delayMs);
    this.scheduler.dueLater(message.attempts > 1 ? 'retry' : 'first', new Date(Date.now() + delayMs));
  }

  /**
   * What every attempt ends with, webhook or ActiveCampaign: metrics, the
   * endpoint's circuit, and the record, which resolves when the batch holding
   * it has committed (until then the message stays leased).
   */
  private async settle(message: LeasedMessage, endpoint: RoutedEndpoint, attempt: AttemptOutcomeRecord): Promise<void> {
    const { plan, finishedAt } = attempt;
    this.metrics.attemptMade({
      outcome: plan.state,
      statusCode: attempt.statusCode,
      errorClass: attempt.errorClass,
      latencyMs: attempt.latencyMs,
      eventRecordedAt: new Date(message.eventRecordedAt),
      respondedAt: finishedAt,
      firstAttempt: message.attempts === 1,
    });
    this.logger.debug(`message ${message.messageId} attempt ${message.attempts} to ${message.endpointId}: ${attempt.statusCode ?? attempt.errorClass} in ${attempt.latencyMs} ms, ${plan.state}`);
    this.gate.recordOutcome(message.endpointId, plan.state === 'succeeded', finishedAt);
    await this.attemptLog.add({
      ...attempt,
      messageId: message.messageId,
      endpointId: message.endpointId,
      partnerId: message.partnerId,
      eventType: message.eventType,
      attemptNumber: message.attempts,
      endpointUrl: endpoint.state.url,
    });
    if (plan.state === 'scheduled') this.scheduler.dueLater('retry', plan.nextAttemptAt);
  }
}
