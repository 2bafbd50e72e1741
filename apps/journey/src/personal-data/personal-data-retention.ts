import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { purchaseStatuses } from '@gancho/contracts';
import { allowedCommandsFrom } from '@gancho/purchase-domain';
import { ServiceMetrics } from '@gancho/service-kit';
import { Counter } from '@gancho/telemetry';
import type { JourneyConfig } from '../journey.config';
import { CLOCK, type Clock } from '../platform/clock';
import { ErasureService } from './erasure.service';

/** Statuses no command leads out of: a purchase there is closed for good. */
export const closedStatuses = purchaseStatuses.filter((status) => allowedCommandsFrom(status).length === 0);

/** Who the audit names for erasures the retention period made. */
export const retentionRequester = 'retention';

/**
 * Retention of closed purchases' personal fields: a subject whose purchases
 * are all closed, the last one for CLOSED_PURCHASE_PERSONAL_DATA_RETENTION_MS,
 * is erased by the erasure path (key shredded, audited, published), so the
 * statuses stay and the name and e-mail go. A subject with no purchase counts
 * from its registration. Safe on several replicas: erasure locks the subject
 * and is idempotent.
 */
@Injectable()
export class PersonalDataRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('PersonalDataRetention');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private readonly erased: Counter;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly erasures: ErasureService,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly config: ConfigService<JourneyConfig, true>,
    metrics: ServiceMetrics,
  ) {
    this.erased = new Counter({
      name: 'gancho_journey_personal_data_retention_erasures_total',
      help: 'Data subjects erased because their purchases were all closed for longer than CLOSED_PURCHASE_PERSONAL_DATA_RETENTION_MS.',
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    const interval = this.config.get('PERSONAL_DATA_RETENTION_SCAN_INTERVAL_MS', { infer: true });
    if (interval === 0 || this.config.get('CLOSED_PURCHASE_PERSONAL_DATA_RETENTION_MS', { infer: true }) === 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce()
        .catch((error: unknown) => {
          this.logger.error(`retention scan failed: ${String(error)}`);
          return 0;
        })
        .finally(() => (this.running = undefined));
    }, interval);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One scan: erases every subject past the period; returns how many. */
  async runOnce(batchSize = 100): Promise<number> {
    const retentionMs = this.config.get('CLOSED_PURCHASE_PERSONAL_DATA_RETENTION_MS', { infer: true });
    if (retentionMs === 0) return 0;
    const now = this.clock.now();
    const cutoff = new Date(now.getTime() - retentionMs);
    let erased = 0;
    for (;;) {
      const due: { subject_id: string }[] = await this.dataSource.query(
        `SELECT d.subject_id FROM data_subjects d LEFT JOIN purchases p ON p.subject_id = d.subject_id
          WHERE d.erased_at IS NULL
          GROUP BY d.subject_id, d.created_at
         HAVING bool_and(p.status IS NULL OR p.status = ANY($1)) AND coalesce(max(p.status_changed_at), d.created_at) <= $2
          ORDER BY d.subject_id LIMIT $3`,
        [closedStatuses, cutoff, batchSize],
      );
      for (const { subject_id } of due) {
        const { repeated } = await this.erasures.erase(subject_id, retentionRequester, now);
        if (!repeated) {
          erased++;
          this.erased.inc();
        }
      }
      if (due.length < batchSize) break;
    }
    if (erased > 0) this.logger.log(`erased ${erased} data subjects whose purchases were closed for longer than the retention period`);
    return erased;
  }
}
