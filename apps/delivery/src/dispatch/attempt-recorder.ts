import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { isOperationalEventType, type EndpointHealthReportV1 } from '@gancho/contracts';
import { PostgresEventStore, type NewEvent } from '@gancho/event-store';
import { shouldDisableEndpoint, summarizeEndpointOutcomes, type EndpointOutcomeSummary } from '@gancho/delivery-domain';
import { occurrenceId, type OperationalMessages, type OperationalNotice } from '../operational/operational-messages';
import type { AttemptRecord, HealthClock, MessageStore } from './message-store';

export const healthReportEventType = 'EndpointHealthReported';

/**
 * Records batches of finished attempts: the attempt rows, the messages' new
 * states and the endpoints' health clocks in one statement (a batch of
 * successes costs one round trip, whatever its size), and asks subscriptions
 * (through the outbox) to disable an endpoint that answered 410 or has failed
 * for too long. A batch that disables an endpoint writes all of it in one
 * transaction, so the report is never lost; a report for failing too long is
 * made after the batch, and if it is lost to a crash the next failure makes
 * it, since the clock is stored.
 */
export class AttemptRecorder {
  private readonly healthyEndpoints = new RecentSuccesses(5_000);

  /** `operational`: where `message.exhausted` and `endpoint.recovered` are stored as messages (none when absent). */
  constructor(
    private readonly dataSource: DataSource,
    private readonly messages: MessageStore,
    private readonly events: PostgresEventStore,
    private readonly disableAfterMs: number,
    private readonly operational?: { messages: OperationalMessages; onStored: () => void },
  ) {}

  async record(attempts: readonly AttemptRecord[]): Promise<void> {
    if (attempts.length === 0) return;
    const summaries = summarizeEndpointOutcomes(attempts.map((a) => ({ endpointId: a.endpointId, partnerId: a.partnerId, succeeded: a.plan.state === 'succeeded', finishedAt: a.finishedAt })));
    const toWrite = this.healthyEndpoints.worthWriting(summaries);
    const exhausted = this.operational ? exhaustedNotices(attempts) : [];
    let clocks: Map<string, HealthClock>;
    // Rare batches (an endpoint disabled, retries used up) commit what they ask for with the attempts: nothing is lost to a crash.
    if (exhausted.length > 0 || attempts.some((a) => a.plan.state === 'endpoint_disabled')) {
      clocks = await this.dataSource.transaction(async (manager) => {
        const settled = await this.messages.settle(attempts, toWrite, manager);
        for (const report of this.reportsOf(attempts, summaries, settled)) await this.reportUnhealthy(manager, report);
        await this.storeOperational(exhausted, manager);
        return settled;
      });
    } else {
      clocks = await this.messages.settle(attempts, toWrite);
      const reports = this.reportsOf(attempts, summaries, clocks);
      if (reports.length > 0)
        await this.dataSource.transaction(async (manager) => {
          for (const report of reports) await this.reportUnhealthy(manager, report);
        });
    }
    await this.announceRecoveries(attempts, clocks);
  }

  /**
   * Stores `endpoint.recovered` for the recoveries the settle noted, and
   * forgets each in the same transaction; one lost to a crash stays noted
   * and is stored at the endpoint's next settle.
   */
  private async announceRecoveries(attempts: readonly AttemptRecord[], clocks: Map<string, HealthClock>): Promise<void> {
    if (!this.operational) return;
    const recovered = [...clocks.entries()].flatMap(([endpointId, clock]) => {
      const attempt = clock.recovery && attempts.find((a) => a.endpointId === endpointId);
      return clock.recovery && attempt ? [{ endpointId, recovery: clock.recovery, attempt }] : [];
    });
    if (recovered.length === 0) return;
    await this.dataSource.transaction(async (manager) => {
      const notices: OperationalNotice[] = recovered.map(({ endpointId, recovery, attempt }) => ({
        eventId: occurrenceId(`endpoint.recovered:${endpointId}:${recovery.failingSince.toISOString()}`),
        type: 'endpoint.recovered',
        data: {
          partner_id: attempt.partnerId,
          endpoint_id: endpointId,
          endpoint_url: attempt.endpointUrl,
          failing_since: recovery.failingSince.toISOString(),
          failed_attempts: recovery.failedAttempts,
          recovered_at: recovery.recoveredAt.toISOString(),
        },
      }));
      await this.storeOperational(notices, manager);
      for (const { endpointId, recovery } of recovered) await this.messages.clearRecovery(manager, endpointId, recovery.failingSince);
    });
  }

  private async storeOperational(notices: readonly OperationalNotice[], manager: EntityManager): Promise<void> {
    if (!this.operational || notices.length === 0) return;
    const stored = await this.operational.messages.store(notices, manager);
    if (stored.length > 0) this.operational.onStored();
  }

  /** The endpoints a batch asks to disable: those that answered 410 (or refused our credentials), and those failing for too long. */
  private reportsOf(attempts: readonly AttemptRecord[], summaries: readonly EndpointOutcomeSummary[], clocks: Map<string, HealthClock>): EndpointHealthReportV1[] {
    const reports: EndpointHealthReportV1[] = [];
    for (const summary of summaries) {
      const gone = attempts.find((a) => a.endpointId === summary.endpointId && a.plan.state === 'endpoint_disabled');
      if (gone) {
        reports.push({
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
      const decision = shouldDisableEndpoint({ ...clock, now: summary.lastFailureAt, disableAfterMs: this.disableAfterMs });
      if (decision.disable) {
        reports.push({ endpoint_id: summary.endpointId, partner_id: summary.partnerId, reason: 'failing', detail: decision.detail, occurred_at: summary.lastFailureAt.toISOString() });
      }
    }
    return reports;
  }

  /** Asks subscriptions (through the outbox) to disable an endpoint, once per failing spell. */
  private async reportUnhealthy(manager: EntityManager, report: EndpointHealthReportV1): Promise<void> {
    if (!(await this.messages.claimHealthReport(manager, report.endpoint_id, report.occurred_at))) return;
    const event: NewEvent<EndpointHealthReportV1> = { eventId: randomUUID(), type: healthReportEventType, data: report, metadata: {} };
    await this.events.appendToStream(`endpoint-health:${report.endpoint_id}`, [event], { expectedVersion: 'any', manager });
  }
}

/**
 * `message.exhausted` for each attempt that used up its message's retries.
 * Not for an operational message itself: a partner's operational endpoints
 * failing for days would otherwise tell each other so, in a loop.
 */
function exhaustedNotices(attempts: readonly AttemptRecord[]): OperationalNotice[] {
  return attempts
    .filter((a) => a.plan.state === 'exhausted' && !isOperationalEventType(a.eventType))
    .map((a) => ({
      eventId: occurrenceId(`message.exhausted:${a.messageId}`),
      type: 'message.exhausted',
      data: {
        partner_id: a.partnerId,
        endpoint_id: a.endpointId,
        endpoint_url: a.endpointUrl,
        message_id: a.messageId,
        event_type: a.eventType,
        attempts: a.attemptNumber,
        last_status_code: a.statusCode,
        last_error: a.errorClass,
        exhausted_at: a.finishedAt.toISOString(),
      },
    }));
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
