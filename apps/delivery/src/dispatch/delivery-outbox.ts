import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { cloudEventSources, cloudEventTypes, toCloudEventsRecord, Topics } from '@gancho/contracts';
import { PostgresEventStore, type StoredEvent } from '@gancho/event-store';
import { EVENT_TRANSPORT, type EventTransport, type OutgoingMessage } from '@gancho/messaging';
import { ServiceOutbox, type NotifyingOutboxSource } from '@gancho/outbox';
import { contractTopicSpec, ServiceMetrics } from '@gancho/service-kit';
import type { DeliveryConfig } from '../delivery.config';
import { healthReportEventType } from './attempt-recorder';
import { attemptLogEventType, MessageStore } from './message-store';

/** A record of delivery's in CloudEvents binary mode, keyed (and `ce_subject`) by what it is about. */
function cloudEvent(event: StoredEvent, type: string, key: string): OutgoingMessage {
  return toCloudEventsRecord({ id: event.eventId, type, source: cloudEventSources.delivery, time: event.recordedAt, subject: key, data: event.data });
}

/** An attempt (a row of the attempt log, or an `AttemptMade` event stored before attempts were relayed from their rows) as its `delivery.attempts.v1` record. */
export function attemptMessageOf(event: StoredEvent): OutgoingMessage | undefined {
  if (event.type !== attemptLogEventType) return undefined;
  return cloudEvent(event, cloudEventTypes.deliveryAttempt, (event.data as { message_id: string }).message_id);
}

export function healthReportMessageOf(event: StoredEvent): OutgoingMessage | undefined {
  if (event.type !== healthReportEventType) return undefined;
  return cloudEvent(event, cloudEventTypes.endpointHealth, (event.data as { endpoint_id: string }).endpoint_id);
}

/**
 * Publishes attempts (`delivery.attempts.v1`) from the attempt rows
 * themselves, and health reports (`delivery.endpoint-health.v1`) from
 * delivery's event store, each with its own relay, checkpoint and wake-up.
 */
@Injectable()
export class DeliveryOutbox implements OnApplicationShutdown {
  private outbox: ServiceOutbox | undefined;

  constructor(
    private readonly store: PostgresEventStore,
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly messages: MessageStore,
    private readonly config: ConfigService<DeliveryConfig, true>,
    private readonly metrics: ServiceMetrics,
  ) {}

  async start(): Promise<void> {
    const attemptsTopic = this.config.get('DELIVERY_ATTEMPTS_TOPIC', { infer: true });
    const healthTopic = this.config.get('ENDPOINT_HEALTH_TOPIC', { infer: true });
    const attemptLog: NotifyingOutboxSource = {
      readPage: ({ after, limit }) => this.messages.readAttemptsPage(after, limit),
      readCheckpoint: (name) => this.store.readCheckpoint(name),
      storeCheckpoint: (name, position) => this.store.storeCheckpoint(name, position),
      notifications: this.messages.attemptsNotifications,
    };
    this.outbox = await ServiceOutbox.start({
      store: this.store,
      transport: this.transport,
      databaseUrl: this.config.get('DATABASE_URL', { infer: true }),
      topics: [contractTopicSpec(Topics.deliveryAttempts, { topic: attemptsTopic }), contractTopicSpec(Topics.endpointHealth, { topic: healthTopic })],
      relays: [
        { name: 'delivery.attempts-log', topic: attemptsTopic, source: attemptLog, toMessage: attemptMessageOf },
        // Keeps the name and checkpoint of the relay that carried attempts before they were relayed from their rows, so AttemptMade events stored then still go out.
        {
          name: 'delivery.attempts',
          topic: healthTopic,
          toMessage: (event) => {
            const attempt = attemptMessageOf(event);
            return attempt ? { ...attempt, topic: attemptsTopic } : healthReportMessageOf(event);
          },
        },
      ],
      log: new Logger('DeliveryOutbox'),
      trackLag: (relay) => this.metrics.trackOutbox(relay),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.outbox?.stop();
  }
}
