// Reads the two topics with kafkajs and hands each record, as a CloudEvent
// (binary content mode: attributes in `ce_*` headers, data in the value), to
// the counter. One consumer group; where it starts is up to `from`.
import { CloudEvent, Kafka as CloudEventsKafka, type KafkaMessage as CloudEventsKafkaMessage } from 'cloudevents';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import type { FunnelCounter } from './funnel.mts';

export const defaultTopics = { purchaseStatus: 'journey.purchase-status.v2', deliveryAttempts: 'delivery.attempts.v1' };

export interface FunnelConsumerOptions {
  brokers: string[];
  /** `analytics.<team>.<purpose>`, e.g. analytics.growth.purchase-funnel (docs/analytics.md). */
  groupId: string;
  topics?: { purchaseStatus: string; deliveryAttempts: string };
  /**
   * Where a group without committed offsets starts: 'earliest' or 'latest'.
   * A Date replays from that time: the group's offsets are moved to the first
   * record at or after it (the group must have no running member).
   */
  from?: 'earliest' | 'latest' | Date;
  /** A record that is not a readable CloudEvent: reported here and skipped, never fatal. */
  onUnreadable?: (topic: string, error: Error) => void;
}

/** A kafkajs message as a CloudEvent; throws on anything else. */
export function cloudEventOf(message: KafkaMessage): CloudEvent<unknown> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  const value = message.value?.toString('utf8') ?? '';
  const incoming: CloudEventsKafkaMessage<string> = { key: message.key?.toString('utf8') ?? '', value, body: value, headers };
  const event = CloudEventsKafka.toEvent(incoming);
  if (Array.isArray(event) || !(event instanceof CloudEvent)) throw new Error('a batch of CloudEvents where one was expected');
  // The SDK's own check of the required attributes (id, source, type, specversion) and their formats; throws ValidationError.
  event.validate();
  return event as CloudEvent<unknown>;
}

/** Moves the group's offsets on `topic` to the first record at or after `time` (the end, where there is none). */
async function seekGroupToTime(kafka: Kafka, groupId: string, topic: string, time: Date): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, time.getTime());
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
    const partitions = byTime.map(({ partition, offset }) => ({ partition, offset: offset === '-1' ? (ends.get(partition) ?? offset) : offset }));
    await admin.setOffsets({ groupId, topic, partitions });
  } finally {
    await admin.disconnect();
  }
}

export async function startFunnelConsumer(options: FunnelConsumerOptions, counter: FunnelCounter): Promise<{ stop(): Promise<void> }> {
  const topics = options.topics ?? defaultTopics;
  const kafka = new Kafka({ clientId: options.groupId, brokers: options.brokers, logLevel: logLevel.WARN });
  if (options.from instanceof Date) {
    for (const topic of [topics.purchaseStatus, topics.deliveryAttempts]) await seekGroupToTime(kafka, options.groupId, topic, options.from);
  }
  const consumer = kafka.consumer({ groupId: options.groupId });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.purchaseStatus, topics.deliveryAttempts], fromBeginning: options.from !== 'latest' });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      let event: CloudEvent<unknown>;
      try {
        event = cloudEventOf(message);
      } catch (error) {
        options.onUnreadable?.(topic, error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (topic === topics.purchaseStatus) counter.addStatus(event);
      else counter.addAttempt(event);
    },
  });
  return { stop: () => consumer.disconnect() };
}
