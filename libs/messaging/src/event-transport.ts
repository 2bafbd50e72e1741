/**
 * The event transport port. Services publish and consume through it and never
 * see the client behind it: Kafka (kafkajs) at scale, a PostgreSQL log on a
 * laptop. Both adapters keep the same promises:
 * - messages with the same key keep their order (one partition per key);
 * - a consumer group shares the work, and a message whose handler resolved is
 *   committed and not delivered again to that group after a restart;
 * - a handler that throws, or a process that dies, gets the message again
 *   (at-least-once), so handlers must be idempotent.
 */
export type TransportHeaders = Record<string, string>;

export interface OutgoingMessage {
  key: string;
  value: Buffer | string;
  headers?: TransportHeaders;
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer;
  headers: TransportHeaders;
  /** Milliseconds since the epoch, as the transport recorded it. */
  timestamp: number;
}

export interface TopicSpec {
  topic: string;
  partitions?: number;
  /** Compacted topics keep the latest value per key (and drop tombstoned keys). */
  compacted?: boolean;
}

export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts. */
  fromBeginning?: boolean;
  handle(message: IncomingMessage): Promise<void>;
}

export interface Subscription {
  /** Stops consuming; what was handled is committed first. */
  stop(): Promise<void>;
}

export interface EventTransport {
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Resolves when the transport can serve requests now; for readiness probes. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Dependency-injection token for the transport. */
export const EVENT_TRANSPORT = Symbol('EVENT_TRANSPORT');
