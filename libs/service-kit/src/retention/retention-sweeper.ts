import { Logger } from '@nestjs/common';
import { Counter, Gauge, type Registry } from '@gancho/telemetry';

/** One place that keeps rows for a bounded time (e.g. delivery's message bodies), and how to forget its old rows. */
export interface RetainedStore {
  /** The metrics' `store` label, e.g. `delivery.messages`. */
  name: string;
  /** How long a row stays, in ms (validated configuration). */
  retentionMs: number;
  /** Deletes (or blanks) the rows recorded before `before`; resolves with how many. */
  purge(before: Date): Promise<number>;
  /** When the oldest row the purge would still act on was recorded, or null when there is none. */
  oldest(): Promise<Date | null>;
}

/**
 * Enforces the retention of a service's stores: every interval it purges the
 * rows of each store older than that store's period, and reports on /metrics
 * the rows purged, the last run of each store and the age of its oldest row
 * (which an operator alerts on: older than period + interval means the job
 * is not keeping up or not running).
 */
export class RetentionSweeper {
  private readonly logger = new Logger('Retention');
  private readonly purged: Counter<'store'>;
  private readonly lastRun: Gauge<'store'>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<Record<string, number>> | undefined;

  constructor(
    private readonly stores: readonly RetainedStore[],
    registry: Registry,
  ) {
    const registers = [registry];
    this.purged = new Counter({
      name: 'gancho_retention_purged_rows_total',
      help: "Rows the retention job deleted (or stripped of personal data) because they outlived their store's period, by store.",
      labelNames: ['store'],
      registers,
    });
    this.lastRun = new Gauge({ name: 'gancho_retention_last_run_timestamp_seconds', help: 'When the retention job last finished a purge of the store (Unix time), by store.', labelNames: ['store'], registers });
    new Gauge({
      name: 'gancho_retention_period_seconds',
      help: 'How long the store keeps a row (its configured retention), by store.',
      labelNames: ['store'],
      registers,
      collect() {
        for (const store of stores) this.set({ store: store.name }, store.retentionMs / 1000);
      },
    });
    const logger = this.logger;
    new Gauge({
      name: 'gancho_retention_oldest_row_age_seconds',
      help: 'Age of the oldest row the retention job still has to act on, by store (0 when the store is empty).',
      labelNames: ['store'],
      registers,
      async collect() {
        await Promise.all(
          stores.map(async (store) => {
            try {
              const oldest = await store.oldest();
              this.set({ store: store.name }, oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0);
            } catch (error) {
              logger.warn(`oldest row of ${store.name}: ${error instanceof Error ? error.message : String(error)}`);
            }
          }),
        );
      },
    });
    for (const store of stores) this.purged.inc({ store: store.name }, 0);
  }

  /** Purges every store once; a run already going is joined, not doubled. Resolves with the rows purged per store. */
  run(now: Date = new Date()): Promise<Record<string, number>> {
    this.running ??= this.purgeAll(now).finally(() => (this.running = undefined));
    return this.running;
  }

  /** Runs every `intervalMs` (0: never; the job is then someone else's, e.g. a CronJob calling `run`). */
  start(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => void this.run().catch((error: unknown) => this.logger.error(`retention: ${error instanceof Error ? error.message : String(error)}`)), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  private async purgeAll(now: Date): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const store of this.stores) {
      const count = await store.purge(new Date(now.getTime() - store.retentionMs));
      counts[store.name] = count;
      this.purged.inc({ store: store.name }, count);
      this.lastRun.set({ store: store.name }, Date.now() / 1000);
    }
    const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
    if (total > 0)
      this.logger.log(
        `retention purged ${Object.entries(counts)
          .map(([store, n]) => `${store}=${n}`)
          .join(' ')}`,
      );
    return counts;
  }
}

/**
 * Deletes in batches (`statement` deletes at most `batchSize` rows older than
 * $1 and returns how many it deleted), so a large backlog never holds one long
 * transaction or lock over the whole table.
 */
export async function deleteInBatches(statement: (before: Date, batchSize: number) => Promise<number>, before: Date, batchSize = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await statement(before, batchSize);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
