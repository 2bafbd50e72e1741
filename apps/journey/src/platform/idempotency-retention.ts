import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { queryRows } from '@gancho/persistence';
import { deleteInBatches, RetentionSweeper, ServiceMetrics } from '@gancho/service-kit';
import type { JourneyConfig } from '../journey.config';

/**
 * The platform's stored idempotent answers (`idempotency_keys`) are replayed
 * for IDEMPOTENCY_KEY_RETENTION_MS and then deleted by this job, with the
 * retention metrics of every store (docs/personal-data.md). An erasure
 * deletes a subject's answers at once; this bounds the rest.
 */
@Injectable()
export class IdempotencyRetention extends RetentionSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly config: ConfigService<JourneyConfig, true>,
    metrics: ServiceMetrics,
  ) {
    super(
      [
        {
          name: 'journey.idempotency_keys',
          retentionMs: config.get('IDEMPOTENCY_KEY_RETENTION_MS', { infer: true }),
          purge: (before) =>
            deleteInBatches(
              async (cutoff, limit) =>
                (
                  await queryRows<{ n: number }>(
                    dataSource,
                    `WITH gone AS (DELETE FROM idempotency_keys WHERE (scope, key) IN (SELECT scope, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2) RETURNING 1)
                     SELECT count(*)::int AS n FROM gone`,
                    [cutoff, limit],
                  )
                )[0]?.n ?? 0,
              before,
            ),
          oldest: async () => (await queryRows<{ oldest: Date | null }>(dataSource, 'SELECT min(created_at) AS oldest FROM idempotency_keys'))[0]?.oldest ?? null,
        },
      ],
      metrics.registry,
    );
  }

  onApplicationBootstrap(): void {
    this.start(this.config.get('RETENTION_SCAN_INTERVAL_MS', { infer: true }));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
