import { topicConfigOf, topicContract, type TopicName } from '@gancho/contracts';
import type { TopicSpec } from '@gancho/messaging';

export class TopicConfigError extends Error {
  readonly code = 'TOPIC_CONFIG_INVALID';
}

/**
 * How to create a topic of the registry: its cleanup policy and retention as
 * the contract says (`topicContracts`), the retention overridable by the
 * contract's environment variable (e.g. `TOPIC_RETENTION_MS_DELIVERY_ATTEMPTS_V1`,
 * milliseconds, -1 for no limit, except on a topic that carries personal data).
 * `topic` is the name in use when a service
 * or test configures its own; every creator of a topic asks here, so whoever
 * creates it first creates it the same way.
 */
export function contractTopicSpec(contractTopic: TopicName, options: { topic?: string; partitions?: number; env?: Readonly<Record<string, string | undefined>> } = {}): TopicSpec {
  const contract = topicContract(contractTopic);
  const raw = (options.env ?? process.env)[contract.retention.env];
  let override: number | undefined;
  if (raw !== undefined && raw !== '') {
    override = Number(raw);
    if (!Number.isInteger(override) || override < -1) throw new TopicConfigError(`${contract.retention.env} must be milliseconds (an integer ≥ -1)`);
    // Personal data on the broker must go within a known time (docs/personal-data.md): no unlimited retention.
    if (contract.personalData.length > 0 && override < 1) throw new TopicConfigError(`${contract.retention.env} must be a bounded retention in milliseconds (≥ 1): ${contract.topic} carries personal data`);
  }
  const config = topicConfigOf(contract, override);
  return {
    topic: options.topic ?? contract.topic,
    ...(options.partitions === undefined ? {} : { partitions: options.partitions }),
    compacted: contract.compaction.cleanupPolicy === 'compact',
    config,
  };
}
