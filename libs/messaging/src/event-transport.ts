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
  /** Broker topic configuration set at creation (e.g. `retention.ms`); Kafka only, an existing topic keeps its own. */
  config?: Readonly<Record<string, string>>;
}

/** Which topics a consumer group reads, and where a new group starts. */
export interface SubscriptionTarget {
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts. */
  fromBeginning?: boolean;
}

/**
 * One message at a time. Messages of one partition are handled in order; when
 * `handle` throws, the messages handled before it stay committed and the one
 * that failed (and every later one of its partition) comes again, after a
 * bounded backoff.
 */
export interface MessageHandling {
  handle(message: IncomingMessage): Promise<void>;
  handleBatch?: never;
}

/**
 * Several messages at a time: each call gets consecutive messages of one
 * partition of one topic, in order. When `handleBatch` resolves they are all
 * committed; when it throws none of them is, and the whole batch comes again
 * (possibly split or merged differently), after a bounded backoff.
 */
export interface BatchHandling {
  handleBatch(messages: IncomingMessage[]): Promise<void>;
  handle?: never;
}

/** Exactly one of `handle` and `handleBatch`. */
export type SubscribeOptions = SubscriptionTarget & (MessageHandling | BatchHandling);

export interface Subscription {
  /** Stops consuming; what was handled is committed first. */
  stop(): Promise<void>;
}

/** How far a consumer group is behind on one partition. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** Messages published to the partition and not yet committed by the group. */
  lag: number;
  /** The next offset the group reads; null before its first commit (then the lag counts from the start of the log). */
  committedOffset: string | null;
  /** The offset the next published message gets (Kafka's high watermark). */
  endOffset: string;
}

export interface EventTransport {
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Resolves when the transport can serve requests now; for readiness probes. */
  ping(): Promise<void>;
  /** Per partition of `topics`, how far `groupId` is behind; for metrics. Optional: adapters without it report nothing. */
  consumerLag?(groupId: string, topics: string[]): Promise<PartitionLag[]>;
  close(): Promise<void>;
}

/** Dependency-injection token for the transport. */
export const EVENT_TRANSPORT = Symbol('EVENT_TRANSPORT');
