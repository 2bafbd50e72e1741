import { topicContracts, Topics } from '@gancho/contracts';
import { KafkaTransport } from '@gancho/messaging';
import { kafkaBrokers, topicConfigOnBroker as configOf, uniqueName } from '@gancho/testing';
import { contractTopicSpec, TopicConfigError } from './contract-topic-spec';

describe('topics created from their contracts', () => {
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'contract-topic-spec-test' });

  afterAll(() => transport.close());

  it('get the cleanup policy and retention of their contract, set explicitly on the broker', async () => {
    const created = topicContracts.map((contract) => ({ contract, topic: uniqueName(contract.topic) }));
    await transport.ensureTopics(created.map(({ contract, topic }) => contractTopicSpec(contract.topic, { topic, env: {} })));
    for (const { contract, topic } of created) {
      const config = await configOf(topic);
      expect({ topic: contract.topic, policy: config['cleanup.policy'] }).toEqual({ topic: contract.topic, policy: contract.compaction.cleanupPolicy });
      if (contract.retention.retentionMs !== null) expect(config['retention.ms']).toBe(String(contract.retention.retentionMs));
      if (contract.retention.deleteRetentionMs !== null) expect(config['delete.retention.ms']).toBe(String(contract.retention.deleteRetentionMs));
    }
  });

  it('take a retention from the environment, per topic', async () => {
    const topic = uniqueName('attempts');
    await transport.ensureTopics([contractTopicSpec(Topics.deliveryAttempts, { topic, env: { TOPIC_RETENTION_MS_DELIVERY_ATTEMPTS_V1: '3600000' } })]);
    expect((await configOf(topic))['retention.ms']).toBe('3600000');
  });

  it('refuse a retention that is not milliseconds', () => {
    expect(() => contractTopicSpec(Topics.deliveryAttempts, { env: { TOPIC_RETENTION_MS_DELIVERY_ATTEMPTS_V1: '7d' } })).toThrow(TopicConfigError);
  });

  it('refuse an unlimited retention on a topic that carries personal data', () => {
    expect(() => contractTopicSpec(Topics.purchaseStatusV2, { env: { TOPIC_RETENTION_MS_JOURNEY_PURCHASE_STATUS_V2: '-1' } })).toThrow(/bounded retention.*carries personal data/);
    expect(() => contractTopicSpec(Topics.purchaseStatus, { env: { TOPIC_RETENTION_MS_JOURNEY_PURCHASE_STATUS_V1: '0' } })).toThrow(TopicConfigError);
    expect(contractTopicSpec(Topics.purchaseStatusV2, { env: { TOPIC_RETENTION_MS_JOURNEY_PURCHASE_STATUS_V2: '86400000' } }).config).toMatchObject({ 'retention.ms': '86400000' });
    expect(contractTopicSpec(Topics.deliveryAttempts, { env: { TOPIC_RETENTION_MS_DELIVERY_ATTEMPTS_V1: '-1' } }).config).toMatchObject({ 'retention.ms': '-1' });
  });
});
