import { topicContracts, type TopicContract } from './topic-contracts';
import type { JsonSchema, JsonValue } from './webhook-payload';

/**
 * The AsyncAPI 3.0 document of Gancho's Kafka topics, generated from the
 * registry (`topicContracts`): one channel per topic with its Kafka binding
 * (cleanup policy, retention, partitions where the contract fixes a
 * default), one message with the CloudEvents binary-mode headers, the value
 * schema, the key (Kafka message binding) and the registry's examples, and
 * a send operation for the producer and a receive operation per consumer.
 * `docs/asyncapi.yaml` is this document for every topic; each service serves
 * the part it produces or consumes (`service`).
 */
export function asyncApiDocument(options: { service?: string } = {}): { [key: string]: JsonValue } {
  const involved = (contract: TopicContract) => options.service === undefined || contract.producer.service === options.service || contract.consumers.some((c) => c.service === options.service);
  const contracts = topicContracts.filter(involved);
  const channels: Record<string, JsonValue> = {};
  const messages: Record<string, JsonValue> = {};
  const operations: Record<string, JsonValue> = {};
  for (const contract of contracts) {
    const id = channelId(contract.topic);
    channels[id] = channelOf(contract, id);
    messages[id] = messageOf(contract);
    if (options.service === undefined || contract.producer.service === options.service) {
      operations[`${contract.producer.service}Sends${capitalized(id)}`] = {
        action: 'send',
        channel: { $ref: `#/channels/${id}` },
        messages: [{ $ref: `#/channels/${id}/messages/${id}` }],
        summary: `${contract.producer.service} publishes ${contract.topic}.`,
        description: contract.producer.description,
      };
    }
    const consumers = contract.consumers.filter((c) => options.service === undefined || c.service === options.service);
    consumers.forEach((consumer, index) => {
      const name = `${consumer.service}Receives${capitalized(id)}${consumers.filter((c) => c.service === consumer.service).length > 1 ? index + 1 : ''}`;
      operations[name] = {
        action: 'receive',
        channel: { $ref: `#/channels/${id}` },
        messages: [{ $ref: `#/channels/${id}/messages/${id}` }],
        summary: `${consumer.service} reads ${contract.topic} (consumer group ${consumer.group}).`,
        description: [consumer.description, 'Before acting on a record:', ...contract.mustUnderstand.map((rule) => `- ${rule}`)].join('\n'),
      };
    });
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: options.service === undefined ? 'Gancho topics' : `Gancho ${options.service}: its topics`,
      version: '1.0.0',
      description:
        'The Kafka topics of Gancho (journey, subscriptions, delivery), generated from the topic registry of libs/contracts (topic-contracts.ts). Every record is a CloudEvent in the Kafka binary content mode: the attributes are `ce_*` headers and the value is the event data as UTF-8 JSON. A value change an older consumer cannot read ships as a new topic version (`….v2`).',
    },
    defaultContentType: 'application/json',
    servers: {
      kafka: {
        host: '{brokers}',
        protocol: 'kafka',
        description: "The deployment's brokers (KAFKA_BROKERS of the services).",
        variables: { brokers: { default: 'localhost:9092', description: 'host:port of a bootstrap broker.' } },
      },
    },
    channels,
    operations,
    components: { messages },
  };
}

function channelId(topic: string): string {
  return topic.replace(/[.-]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The default partition count when the contract states one ("… (12 by default)"); the broker's default otherwise. */
function partitionsOf(contract: TopicContract): number | undefined {
  const match = /\((\d+) by default\)/.exec(contract.partitioning.partitions);
  return match ? Number(match[1]) : undefined;
}

function channelOf(contract: TopicContract, id: string): JsonValue {
  const partitions = partitionsOf(contract);
  const topicConfiguration: Record<string, JsonValue> = { 'cleanup.policy': [contract.compaction.cleanupPolicy] };
  if (contract.retention.retentionMs !== null) topicConfiguration['retention.ms'] = contract.retention.retentionMs;
  if (contract.retention.deleteRetentionMs !== null) topicConfiguration['delete.retention.ms'] = contract.retention.deleteRetentionMs;
  return {
    address: contract.topic,
    title: contract.topic,
    summary: contract.summary,
    description: [
      `Key: the value's \`${contract.key.valueField}\`. ${contract.key.description}`,
      `Partitioning: ${contract.partitioning.reason} Partitions: ${contract.partitioning.partitions}`,
      `Ordering: ${contract.ordering}`,
      `Retention: ${contract.compaction.cleanupPolicy === 'compact' ? 'compacted (the latest record of every key stays)' : 'records are deleted after retention.ms'}. ${contract.compaction.reason} Set at topic creation; override with ${contract.retention.env}.`,
      contract.tombstones.allowed ? `Tombstones: ${contract.tombstones.description ?? 'an empty value deletes the key.'}` : 'No tombstones.',
      `Personal data: ${contract.personalData.length > 0 ? contract.personalData.join(' ') : 'none.'}`,
    ].join('\n\n'),
    messages: { [id]: { $ref: `#/components/messages/${id}` } },
    bindings: {
      kafka: {
        topic: contract.topic,
        ...(partitions !== undefined ? { partitions } : {}),
        topicConfiguration,
        bindingVersion: '0.5.0',
      },
    },
  };
}

/**
 * AsyncAPI's default schema format is its own draft-07 superset; our schemas
 * use only keywords it shares with 2020-12, so they go in as they are, less
 * the `$schema` that would name another dialect.
 */
function embedded(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}

function messageOf(contract: TopicContract): JsonValue {
  return {
    name: contract.cloudEvents.type,
    title: `${contract.topic} record`,
    summary: `CloudEvents type ${contract.cloudEvents.type}, source ${contract.cloudEvents.source}, dataschema ${contract.cloudEvents.dataSchema}.`,
    contentType: 'application/json',
    headers: embedded(contract.headers),
    payload: embedded(contract.valueSchema),
    bindings: { kafka: { key: embedded(contract.key.schema), bindingVersion: '0.5.0' } },
    examples: contract.examples.map((example) => ({
      name: example.name,
      summary: `key ${example.key}`,
      headers: example.headers,
      payload: example.value,
    })),
  };
}
