import { topicContract, Topics } from '@gancho/contracts';
import { KafkaTransport, type IncomingMessage } from '@gancho/messaging';
import { topicRecordValidator } from '@gancho/service-kit';
import { createTestDatabase, eventually, kafkaBrokers, topicConfigOnBroker, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { happyPath, journeyClient, startJourney } from '../testing/journey-test-app';

// The producer side of journey.purchase-status.v1's contract (libs/contracts
// topic-contracts.ts): the real journey service, on PostgreSQL and Kafka,
// publishes records whose key, CloudEvents headers and value validate against
// the registry, on a topic created with the registry's retention.
describe('journey.purchase-status.v1 contract (producer)', () => {
  let database: TestDatabase;
  let service: TestService;
  const topic = uniqueName('test.contract-status');
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'status-contract-test', maxWaitTimeMs: 200 });
  const received: IncomingMessage[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('journey_contract');
    service = await startJourney(database.url, { env: { PURCHASE_STATUS_TOPIC: topic, PUBLISH_STATUS_V1: 'true' } });
    await transport.subscribe({ groupId: uniqueName('contract-reader'), topics: [topic], fromBeginning: true, handle: async (m) => void received.push(m) });
  });
  afterAll(async () => {
    await transport.close();
    await service?.close();
    await database?.drop();
  });

  it('publishes records that validate against the registry: key, headers, value', async () => {
    const api = journeyClient(service.url);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const won = (await api.open({}, { traceparent })).body.purchase_id as string;
    for (const step of happyPath) expect((await api.command(won, step.path, step.body, { traceparent })).status).toBe(200);
    const anonymous = (await api.open({ student_logged_in: false })).body.purchase_id as string;
    expect(anonymous).toEqual(expect.any(String));

    await eventually(() => expect(received).toHaveLength(happyPath.length + 2), { timeoutMs: 20_000 });
    const validator = topicRecordValidator();
    for (const record of received) expect({ offset: record.offset, problems: validator.recordProblems(Topics.purchaseStatus, record) }).toEqual({ offset: record.offset, problems: [] });
    expect(new Set(received.map((r) => r.headers['ce_type'])).size).toBe(happyPath.length + 2);
  });

  it('creates the topic with the retention of the contract', async () => {
    const config = await topicConfigOnBroker(topic);
    const contract = topicContract(Topics.purchaseStatus);
    expect(config['cleanup.policy']).toBe(contract.compaction.cleanupPolicy);
    expect(config['retention.ms']).toBe(String(contract.retention.retentionMs));
  });
});
