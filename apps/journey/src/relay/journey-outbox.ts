import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { eventTypeOf, toCloudEventsKafkaMessage, Topics } from '@gancho/contracts';
import { PostgresEventStore, type StoredEvent } from '@gancho/event-store';
import { EVENT_TRANSPORT, type EventTransport, type OutgoingMessage } from '@gancho/messaging';
import { ServiceOutbox } from '@gancho/outbox';
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

/** Publishes the journey's event store to `journey.purchase-status.v1` (its one outbox relay) in this process. */
@Injectable()
export class JourneyOutbox implements OnApplicationBootstrap, OnApplicationShutdown {
  private outbox: ServiceOutbox | undefined;

  constructor(
    private readonly store: PostgresEventStore,
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly config: ConfigService<JourneyConfig, true>,
    private readonly metrics: ServiceMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.get('OUTBOX_RELAY_ENABLED', { infer: true })) return;
    const topic = this.config.get('PURCHASE_STATUS_TOPIC', { infer: true });
    this.outbox = await ServiceOutbox.start({
      store: this.store,
      transport: this.transport,
      databaseUrl: this.config.get('DATABASE_URL', { infer: true }),
      topics: [contractTopicSpec(Topics.purchaseStatus, { topic, partitions: this.config.get('PURCHASE_STATUS_PARTITIONS', { infer: true }) })],
      relays: [{ name: 'journey.purchase-status', topic, toMessage: statusMessageOf }],
      log: new Logger('JourneyOutbox'),
      trackLag: (relay) => this.metrics.trackOutbox(relay),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.outbox?.stop();
  }
}
