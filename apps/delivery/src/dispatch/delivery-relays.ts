import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { PostgresEventStore, type StoredEvent } from '@gancho/event-store';
import { EVENT_TRANSPORT, type EventTransport, type OutgoingMessage } from '@gancho/messaging';
import { OutboxRelay, type OutboxSource } from '@gancho/outbox';
import { Topics } from '@gancho/contracts';
import { contractTopicSpec, ServiceMetrics } from '@gancho/service-kit';
import type { DeliveryConfig } from '../delivery.config';
import { healthReportEventType } from './attempt-recorder';
import { attemptLogEventType, MessageStore } from './message-store';

/** CloudEvents Kafka binding, binary mode, for delivery's own records. */
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

/** An attempt (a row of the attempt log, or an `AttemptMade` event stored before attempts were relayed from their rows) as its `delivery.attempts.v1` record. */
export function attemptMessageOf(event: StoredEvent): OutgoingMessage | undefined {
  if (event.type !== attemptLogEventType) return undefined;
  return cloudEvent(event, 'delivery.attempt', (event.data as { message_id: string }).message_id);
}

export function healthReportMessageOf(event: StoredEvent): OutgoingMessage | undefined {
  if (event.type !== healthReportEventType) return undefined;
  return cloudEvent(event, 'delivery.endpoint_health', (event.data as { endpoint_id: string }).endpoint_id);
}

/**
 * Publishes attempts (`delivery.attempts.v1`) from the attempt rows
 * themselves, and health reports (`delivery.endpoint-health.v1`) from
 * delivery's event store, each with its own relay, checkpoint and wake-up.
 */
@Injectable()
export class DeliveryRelays implements OnApplicationShutdown {
  private relays: OutboxRelay[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly messages: MessageStore,
    private readonly config: ConfigService<DeliveryConfig, true>,
    private readonly metrics: ServiceMetrics,
  ) {}

  async start(): Promise<void> {
    const logger = new Logger('DeliveryRelays');
    const log = { info: (m: string) => logger.log(m), warn: (m: string) => logger.warn(m), error: (m: string) => logger.error(m) };
    const attemptsTopic = this.config.get('DELIVERY_ATTEMPTS_TOPIC', { infer: true });
    const healthTopic = this.config.get('ENDPOINT_HEALTH_TOPIC', { infer: true });
    await this.transport.ensureTopics([
      contractTopicSpec(Topics.deliveryAttempts, { topic: attemptsTopic }),
      contractTopicSpec(Topics.endpointHealth, { topic: healthTopic }),
    ]);
    const store = new PostgresEventStore(this.dataSource);
    const attemptLog: OutboxSource = {
      readPage: ({ after, limit }) => this.messages.readAttemptsPage(after, limit),
      readCheckpoint: (name) => store.readCheckpoint(name),
      storeCheckpoint: (name, position) => store.storeCheckpoint(name, position),
    };
    const common = { transport: this.transport, databaseUrl: this.config.get('DATABASE_URL', { infer: true }), log };
    this.relays = [
      new OutboxRelay({ ...common, name: 'delivery.attempts-log', topic: attemptsTopic, source: attemptLog, wakeOn: this.messages.attemptsNotifications, toMessage: attemptMessageOf }),
      // Keeps the name and checkpoint of the relay that carried attempts before they were relayed from their rows, so AttemptMade events stored then still go out.
      new OutboxRelay({
        ...common,
        name: 'delivery.attempts',
        topic: healthTopic,
        source: store,
        wakeOn: store.notifications,
        toMessage: (event) => {
          const attempt = attemptMessageOf(event);
          return attempt ? { ...attempt, topic: attemptsTopic } : healthReportMessageOf(event);
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
