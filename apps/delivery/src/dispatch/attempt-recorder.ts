import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { EndpointHealthReportV1 } from '@gancho/contracts';
import { PostgresEventStore, type NewEvent } from '@gancho/event-store';
import { shouldDisableEndpoint, summarizeEndpointOutcomes, type EndpointOutcomeSummary } from '@gancho/delivery-domain';
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

  constructor(
    private readonly dataSource: DataSource,
    private readonly messages: MessageStore,
    private readonly events: PostgresEventStore,
    private readonly disableAfterMs: number,
  ) {}

  async record(attempts: readonly AttemptRecord[]): Promise<void> {
    if (attempts.length === 0) return;
    const summaries = summarizeEndpointOutcomes(attempts.map((a) => ({ endpointId: a.endpointId, partnerId: a.partnerId, succeeded: a.plan.state === 'succeeded', finishedAt: a.finishedAt })));
    const toWrite = this.healthyEndpoints.worthWriting(summaries);
    if (attempts.some((a) => a.plan.state === 'endpoint_disabled')) {
      await this.dataSource.transaction(async (manager) => {
        const clocks = await this.messages.settle(attempts, toWrite, manager);
        for (const report of this.reportsOf(attempts, summaries, clocks)) await this.reportUnhealthy(manager, report);
      });
      return;
    }
    const clocks = await this.messages.settle(attempts, toWrite);
    const reports = this.reportsOf(attempts, summaries, clocks);
    if (reports.length > 0)
      await this.dataSource.transaction(async (manager) => {
        for (const report of reports) await this.reportUnhealthy(manager, report);
      });
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
