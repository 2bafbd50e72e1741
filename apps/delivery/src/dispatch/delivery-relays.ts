import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { PostgresEventStore, type StoredEvent } from '@gancho/event-store';
import { EVENT_TRANSPORT, type EventTransport, type OutgoingMessage } from '@gancho/messaging';
import { OutboxRelay } from '@gancho/outbox';
import { ServiceMetrics } from '@gancho/service-kit';
import type { DeliveryConfig } from '../delivery.config';
import { attemptEventType, healthReportEventType } from './attempt-recorder';

/** CloudEvents Kafka binding, binary mode, for delivery's own events. */
function cloudEvent(event: StoredEvent, type: string, key: string): OutgoingMessage {
  return {
    key,
    value: JSON.stringify(event.data),
    headers: {
      ce_specversion: '1.0',
      ce_id: event.eventId,
      ce_type: type,
      ce_source: '/gancho/delivery',
      ce_time: event.recordedAt.toISOString(),
      ce_subject: key,
      'content-type': 'application/json',
    },
  };
}

export function attemptMessageOf(event: StoredEvent): OutgoingMessage | undefined {
  if (event.type !== attemptEventType) return undefined;
  return cloudEvent(event, 'delivery.attempt', (event.data as { message_id: string }).message_id);
}

export function healthReportMessageOf(event: StoredEvent): OutgoingMessage | undefined {
  if (event.type !== healthReportEventType) return undefined;
  return cloudEvent(event, 'delivery.endpoint_health', (event.data as { endpoint_id: string }).endpoint_id);
}

/** Publishes attempts (`delivery.attempts.v1`) and health reports (`delivery.endpoint-health.v1`) from delivery's event store, with one relay. */
@Injectable()
export class DeliveryRelays implements OnApplicationShutdown {
  private relays: OutboxRelay[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly config: ConfigService<DeliveryConfig, true>,
    private readonly metrics: ServiceMetrics,
  ) {}

  async start(): Promise<void> {
    const logger = new Logger('DeliveryRelays');
    const log = { info: (m: string) => logger.log(m), warn: (m: string) => logger.warn(m), error: (m: string) => logger.error(m) };
    const attemptsTopic = this.config.get('DELIVERY_ATTEMPTS_TOPIC', { infer: true });
    const healthTopic = this.config.get('ENDPOINT_HEALTH_TOPIC', { infer: true });
    await this.transport.ensureTopics([{ topic: attemptsTopic }, { topic: healthTopic }]);
    const source = new PostgresEventStore(this.dataSource);
    const common = { source, transport: this.transport, databaseUrl: this.config.get('DATABASE_URL', { infer: true }), wakeOn: source.notifications, log };
    // One relay reads the store once for both topics (it keeps the attempts relay's name and checkpoint).
    this.relays = [
      new OutboxRelay({
        ...common,
        name: 'delivery.attempts',
        topic: attemptsTopic,
        toMessage: (event) => {
          const health = healthReportMessageOf(event);
          return health ? { ...health, topic: healthTopic } : attemptMessageOf(event);
        },
      }),
    ];
    for (const relay of this.relays) {
      this.metrics.trackOutbox(relay);
      relay.start();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.relays.map((r) => r.stop()));
  }
}
