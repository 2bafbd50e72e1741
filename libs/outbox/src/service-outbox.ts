import type { EventTransport, TopicSpec } from '@gancho/messaging';
import { OutboxRelay, type OutboxRelayLog, type OutboxRelayOptions, type OutboxSource, type RelayedMessage } from './outbox-relay';
import type { StoredEvent } from '@gancho/event-store';

/** The notification a source's appends send on commit (an event store's `notifications`). */
export interface AppendNotifications {
  channel: string;
  payload: string;
}

/**
 * A source a relay can wake on: every relay of a service outbox listens to
 * its source's own notifications, so none polls, and none wakes for another
 * service's (or another outbox's) appends.
 */
export interface NotifyingOutboxSource extends OutboxSource {
  readonly notifications: AppendNotifications;
}

/** A service's event store as its outbox reads it by default (`PostgresEventStore` is one). */
export type OutboxEventStore = NotifyingOutboxSource & Required<Pick<OutboxSource, 'headPosition'>>;

export interface OutboxRelayDefinition {
  /** Names the checkpoint and the leader lock: renaming it republishes from the first event. */
  name: string;
  /** Where `toMessage`'s messages go unless one names another topic. */
  topic: string;
  toMessage(event: StoredEvent): RelayedMessage | undefined;
  /** What it reads; the service's event store when left out. */
  source?: NotifyingOutboxSource;
  /** See `OutboxRelayOptions.checkpointIntervalMs`. */
  checkpointIntervalMs?: number;
}

export interface ServiceOutboxOptions {
  store: OutboxEventStore;
  transport: EventTransport;
  /** For each relay's leader lock and LISTEN connection. */
  databaseUrl: string;
  /** The topics the relays publish to, created (with these settings) before the first publication. */
  topics: TopicSpec[];
  relays: OutboxRelayDefinition[];
  /** A NestJS `Logger` fits. */
  log: OutboxRelayLog;
  /** Reports each relay's lag (`ServiceMetrics.trackOutbox`). */
  trackLag(relay: OutboxRelay): void;
}

/**
 * Each relay's options: its source (the store by default), a wake-up on that
 * source's own notifications, and the service's transport, connection and
 * log. Refuses two relays of one name: they would share a checkpoint and a
 * lock, so one of them would never publish.
 */
export function outboxRelayOptions(options: Omit<ServiceOutboxOptions, 'topics' | 'trackLag'>): OutboxRelayOptions[] {
  const names = new Set<string>();
  return options.relays.map(({ source = options.store, ...definition }) => {
    if (names.has(definition.name)) throw new Error(`outbox: two relays are named ${definition.name}`);
    names.add(definition.name);
    return {
      ...definition,
      source,
      wakeOn: source.notifications,
      transport: options.transport,
      databaseUrl: options.databaseUrl,
      log: options.log,
    };
  });
}

/**
 * A service's outbox: the relays that publish its stored events to its
 * topics, wired the one way every service does it (topics created first,
 * wake-up on the source's notifications, lag on /metrics, one log).
 */
export class ServiceOutbox {
  private constructor(readonly relays: readonly OutboxRelay[]) {}

  /** Creates the topics, then starts every relay. */
  static async start(options: ServiceOutboxOptions): Promise<ServiceOutbox> {
    const relays = outboxRelayOptions(options).map((relayOptions) => new OutboxRelay(relayOptions));
    await options.transport.ensureTopics(options.topics);
    for (const relay of relays) {
      options.trackLag(relay);
      relay.start();
    }
    return new ServiceOutbox(relays);
  }

  async stop(): Promise<void> {
    await Promise.all(this.relays.map((relay) => relay.stop()));
  }
}
