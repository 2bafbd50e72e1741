import { Inject, Injectable, Logger } from '@nestjs/common';
import { EVENT_TRANSPORT, type EventTransport } from '@gancho/messaging';
import { Counter, createRegistry, Gauge, httpServerDuration, type Histogram, type Registry } from '@gancho/telemetry';
import { SERVICE_NAME } from '../service-name';

/** What an outbox relay reports (see `OutboxRelay.lag`). */
export interface OutboxLagSource {
  readonly name: string;
  lag(): Promise<{ seconds: number; events: number | undefined }>;
}

/** A collect callback must not hang a scrape on a slow broker. */
const collectTimeoutMs = 3000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${collectTimeoutMs} ms`)), collectTimeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The service's Prometheus registry (served at /metrics): HTTP server
 * requests, Node's process metrics, and the lags every service can have:
 * its consumer groups against their topics and its outbox relays against
 * their event stores. Services add their own metrics to `registry`.
 */
@Injectable()
export class ServiceMetrics {
  private readonly logger = new Logger('Metrics');
  readonly registry: Registry;
  readonly httpServerDuration: Histogram<'http_request_method' | 'http_route' | 'http_response_status_code'>;
  private readonly consumerGroups = new Map<string, string[]>();
  private readonly outboxes = new Map<string, OutboxLagSource>();
  private readonly notUnderstood: Counter<'messaging_destination_name'>;

  constructor(@Inject(SERVICE_NAME) service: string, @Inject(EVENT_TRANSPORT) transport: EventTransport) {
    this.registry = createRegistry(service);
    this.httpServerDuration = httpServerDuration(this.registry);
    this.notUnderstood = new Counter({
      name: 'gancho_messaging_records_not_understood_total',
      help: 'Records a consumer could not fully read (invalid, or from a newer release) and so did not act on, by topic.',
      labelNames: ['messaging_destination_name'],
      registers: [this.registry],
    });
    const groups = this.consumerGroups;
    const outboxes = this.outboxes;
    const logger = this.logger;
    new Gauge({
      name: 'gancho_messaging_consumer_lag_messages',
      help: 'Messages published to a partition and not yet committed by the consumer group.',
      labelNames: ['messaging_consumer_group_name', 'messaging_destination_name', 'messaging_destination_partition_id'],
      registers: [this.registry],
      async collect() {
        this.reset();
        if (!transport.consumerLag) return;
        for (const [groupId, topics] of groups) {
          try {
            for (const partition of await withTimeout(transport.consumerLag(groupId, topics), 'consumer lag')) {
              this.set({ messaging_consumer_group_name: groupId, messaging_destination_name: partition.topic, messaging_destination_partition_id: String(partition.partition) }, partition.lag);
            }
          } catch (error) {
            logger.warn(`consumer lag of ${groupId}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
      },
    });
    // Both outbox gauges come from one reading per scrape (prom-client collects metrics concurrently).
    let reading: { at: number; lags: Promise<{ name: string; seconds: number; events: number | undefined }[]> } | undefined;
    const readOutboxes = () => {
      if (!reading || Date.now() - reading.at > 1000) {
        reading = {
          at: Date.now(),
          lags: Promise.all(
            [...outboxes.values()].map(async (source) => {
              try {
                return { name: source.name, ...(await withTimeout(source.lag(), 'outbox lag')) };
              } catch (error) {
                logger.warn(`outbox lag of ${source.name}: ${error instanceof Error ? error.message : String(error)}`);
                return undefined;
              }
            }),
          ).then((lags) => lags.filter((lag) => lag !== undefined)),
        };
      }
      return reading.lags;
    };
    new Gauge({
      name: 'gancho_outbox_lag_seconds',
      help: 'Age of the oldest stored event the outbox relay has not published yet (0 when caught up).',
      labelNames: ['relay'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const lag of await readOutboxes()) this.set({ relay: lag.name }, lag.seconds);
      },
    });
    new Gauge({
      name: 'gancho_outbox_lag_events',
      help: 'Stored events past the outbox relay checkpoint (positions between the checkpoint and the head of the event store).',
      labelNames: ['relay'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const lag of await readOutboxes()) if (lag.events !== undefined) this.set({ relay: lag.name }, lag.events);
      },
    });
  }

  /** Reports the lag of a consumer group of this service on /metrics. */
  trackConsumerGroup(groupId: string, topics: string[]): void {
    this.consumerGroups.set(groupId, topics);
  }

  /** Counts a record this service read and did not act on, because it could not fully read it (must-understand). */
  recordNotUnderstood(topic: string): void {
    this.notUnderstood.inc({ messaging_destination_name: topic });
  }

  /** Reports the lag of an outbox relay on /metrics. */
  trackOutbox(source: OutboxLagSource): void {
    this.outboxes.set(source.name, source);
  }
}
