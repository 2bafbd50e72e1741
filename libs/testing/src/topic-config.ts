import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { kafkaBrokers } from './env';

/** A topic's configuration as the broker has it (`cleanup.policy`, `retention.ms`, …), to check how a service created it. */
export async function topicConfigOnBroker(topic: string): Promise<Record<string, string>> {
  const admin = new Kafka({ clientId: 'gancho-test-topic-config', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
    return Object.fromEntries((described.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]));
  } finally {
    await admin.disconnect();
  }
}
