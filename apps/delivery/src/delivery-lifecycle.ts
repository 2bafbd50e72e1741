import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PostgresEventStore } from '@gancho/event-store';
import { queryRows } from '@gancho/persistence';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { DeliveryConfig } from './delivery.config';
import { DeliveryOutbox } from './dispatch/delivery-outbox';
import { Dispatcher } from './dispatch/dispatcher';
import { StatusEventConsumer } from './ingest/status-event.consumer';
import { EndpointDirectory } from './routing/endpoint-directory';

/**
 * Starts the pipeline in the one safe order: the routing table first (status
 * events routed before it has read the endpoints would reach no endpoint),
 * then the dispatcher, then the status consumer and the outbox.
 */
@Injectable()
export class DeliveryLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Delivery');
  private retentionTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly directory: EndpointDirectory,
    private readonly dispatcher: Dispatcher,
    private readonly consumer: StatusEventConsumer,
    private readonly outbox: DeliveryOutbox,
    private readonly store: PostgresEventStore,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: ConfigService<DeliveryConfig, true>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.directory.start();
    await this.directory.waitUntilCaughtUp();
    this.logger.log(`routing table loaded: ${this.directory.size} endpoints`);
    this.dispatcher.start();
    this.consumer.onMessagesStored(() => this.dispatcher.wake());
    this.consumer.handOffTo(this.dispatcher);
    await this.consumer.start();
    await this.outbox.start();
    const interval = this.config.get('RETENTION_SCAN_INTERVAL_MS', { infer: true });
    if (interval > 0) {
      this.retentionTimer = setInterval(() => {
        this.purge().catch((error: unknown) => this.logger.error(`retention: ${String(error)}`));
      }, interval);
      this.retentionTimer.unref();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.retentionTimer);
  }

  /**
   * Deletes settled messages (with their attempts), published events and held status events (they carry student data)
   * older than the retention, and the events API's status events older than its own.
   */
  async purge(now: Date = new Date()): Promise<{ messages: number; events: number; statusEvents: number }> {
    const before = new Date(now.getTime() - this.config.get('RETENTION_MS', { infer: true }));
    const messages = await queryRows(this.dataSource, "DELETE FROM messages WHERE created_at < $1 AND status IN ('succeeded', 'failed', 'exhausted') RETURNING 1", [before]);
    const events = await this.store.deleteEventsRecordedBefore(before);
    await this.dataSource.query('DELETE FROM held_status_events WHERE held_at < $1', [before]);
    const statusEventsBefore = new Date(now.getTime() - this.config.get('EVENTS_RETENTION_MS', { infer: true }));
    const [statusEvents] = await queryRows<{ count: number }>(this.dataSource, 'WITH d AS (DELETE FROM status_events WHERE ingested_at < $1 RETURNING 1) SELECT count(*)::int AS count FROM d', [statusEventsBefore]);
    return { messages: messages.length, events, statusEvents: statusEvents?.count ?? 0 };
  }
}
