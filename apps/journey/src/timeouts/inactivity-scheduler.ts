import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { StreamVersionConflictError } from '@gancho/event-store';
import { timeoutCommandFor, type TimeoutPolicy } from '@gancho/purchase-domain';
import type { JourneyConfig } from '../journey.config';
import { CLOCK, type Clock } from '../platform/clock';
import { PurchaseCommandHandler } from '../purchases/purchase-command.handler';

/**
 * Issues the time-based commands (MarkLinkInactive, Expire) when they fall
 * due. Safe on several replicas: each purchase is taken with
 * `FOR UPDATE SKIP LOCKED` and the command runs in that same transaction, so
 * two replicas never both act on one purchase; the expected-version append
 * backs that up.
 */
@Injectable()
export class InactivityScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('InactivityScheduler');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private readonly policy: TimeoutPolicy;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly handler: PurchaseCommandHandler,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly config: ConfigService<JourneyConfig, true>,
  ) {
    this.policy = {
      cartInactiveAfterMs: config.get('CART_INACTIVE_AFTER_MS', { infer: true }),
      expireAfterInactiveMs: config.get('EXPIRE_AFTER_INACTIVE_MS', { infer: true }),
    };
  }

  onApplicationBootstrap(): void {
    const interval = this.config.get('TIMEOUT_SCAN_INTERVAL_MS', { infer: true });
    if (interval === 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce()
        .catch((error: unknown) => {
          this.logger.error(`scan failed: ${String(error)}`);
          return 0;
        })
        .finally(() => (this.running = undefined));
    }, interval);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One scan: issues every command due now; returns how many it issued. */
  async runOnce(batchSize = 100): Promise<number> {
    const now = this.clock.now();
    const inactiveBefore = new Date(now.getTime() - this.policy.cartInactiveAfterMs);
    const expireBefore = new Date(now.getTime() - this.policy.expireAfterInactiveMs);
    let issued = 0;
    for (;;) {
      const issuedInBatch = await this.dataSource.transaction(async (manager) => {
        const due: { purchase_id: string }[] = await manager.query(
          `SELECT purchase_id FROM purchases
            WHERE (phase = 'open' AND last_activity_at <= $1) OR (status = 'link_inactive' AND status_changed_at <= $2)
            ORDER BY purchase_id
            LIMIT $3
            FOR UPDATE SKIP LOCKED`,
          [inactiveBefore, expireBefore, batchSize],
        );
        let count = 0;
        for (const { purchase_id } of due) {
          await manager.query('SAVEPOINT timeout_command');
          try {
            const handled = await this.handler.execute(purchase_id, (state) => timeoutCommandFor(state, now, this.policy), { causationId: 'inactivity-scheduler' }, { manager });
            await manager.query('RELEASE SAVEPOINT timeout_command');
            if (handled) count++;
          } catch (error) {
            await manager.query('ROLLBACK TO SAVEPOINT timeout_command');
            // Another writer moved the purchase on; the next scan looks again.
            if (!(error instanceof StreamVersionConflictError)) this.logger.warn(`purchase ${purchase_id}: ${String(error)}`);
          }
        }
        return { count, seen: due.length };
      });
      issued += issuedInBatch.count;
      if (issuedInBatch.seen < batchSize || issuedInBatch.count === 0) return issued;
    }
  }
}
