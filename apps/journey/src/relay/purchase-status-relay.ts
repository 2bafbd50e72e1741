import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { eventTypeOf, toCloudEventsKafkaMessage, Topics } from '@gancho/contracts';
import { PostgresEventStore, type StoredEvent } from '@gancho/event-store';
import { EVENT_TRANSPORT, type EventTransport, type OutgoingMessage } from '@gancho/messaging';
import { OutboxRelay } from '@gancho/outbox';
import { contractTopicSpec, ServiceMetrics } from '@gancho/service-kit';
import type { JourneyConfig } from '../journey.config';
import type { PurchaseEventMetadata } from '../purchases/purchase-command.handler';

/** A stored purchase event as the CloudEvents message (binary mode) on the status topic. */
export function statusMessageOf(event: StoredEvent): OutgoingMessage | undefined {
  const metadata = event.metadata as Partial<PurchaseEventMetadata>;
  const statusEvent = metadata.statusEvent;
  if (!statusEvent) return undefined;
  return toCloudEventsKafkaMessage({
    eventId: event.eventId,
    type: eventTypeOf(statusEvent.status),
    time: statusEvent.occurred_at,
    purchaseId: statusEvent.purchase_id,
    data: statusEvent,
    ...(metadata.traceparent ? { traceparent: metadata.traceparent } : {}),
    ...(metadata.tracestate ? { tracestate: metadata.tracestate } : {}),
  });
}

/** Runs the outbox relay from the journey's event store to `journey.purchase-status.v1` in this process. */
@Injectable()
export class PurchaseStatusRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private relay: OutboxRelay | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly config: ConfigService<JourneyConfig, true>,
    private readonly metrics: ServiceMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.get('OUTBOX_RELAY_ENABLED', { infer: true })) return;
    const topic = this.config.get('PURCHASE_STATUS_TOPIC', { infer: true });
    await this.transport.ensureTopics([contractTopicSpec(Topics.purchaseStatus, { topic, partitions: this.config.get('PURCHASE_STATUS_PARTITIONS', { infer: true }) })]);
    const logger = new Logger('PurchaseStatusRelay');
    const store = new PostgresEventStore(this.dataSource);
    this.relay = new OutboxRelay({
      name: 'journey.purchase-status',
      topic,
      source: {
        readPage: (options) => store.readPage(options),
        readCheckpoint: (name) => store.readCheckpoint(name),
        storeCheckpoint: (name, position) => store.storeCheckpoint(name, position),
        headPosition: async () => {
          const [row] = (await this.dataSource.query('SELECT coalesce(max(global_position), 0)::text AS head FROM events')) as { head: string }[];
          return BigInt(row?.head ?? '0');
        },
      },
      transport: this.transport,
      toMessage: statusMessageOf,
      databaseUrl: this.config.get('DATABASE_URL', { infer: true }),
      wakeOn: store.notifications,
      log: { info: (m) => logger.log(m), warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
    });
    this.metrics.trackOutbox(this.relay);
    this.relay.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
  }
}
