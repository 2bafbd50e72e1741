import { topicContract, Topics, type TopicName } from '@gancho/contracts';
import { topicRecordValidator } from '@gancho/service-kit';
import { createTestDatabase, eventually, topicConfigOnBroker, type TestDatabase, type TestService } from '@gancho/testing';
import { recordTopics, startSubscriptions, subscriptionsClient, testTopics } from '../testing/subscriptions-test-app';

// The producer side of subscriptions.endpoints.v1 and subscriptions.api-keys.v1
// (libs/contracts topic-contracts.ts): the real subscriptions service, on
// PostgreSQL and Kafka, publishes records whose key, CloudEvents headers and
// value validate against the registry — webhook and ActiveCampaign endpoints,
// custom headers, a rotation, a disablement, a delete (tombstone); issued,
// revoked and portal-session keys — on compacted topics created as the
// registry says.
describe('subscriptions topics contract (producer)', () => {
  let database: TestDatabase;
  let service: TestService;
  let recorder: Awaited<ReturnType<typeof recordTopics>>;
  const topics = testTopics();
  const endpointsTopic = topics.ENDPOINTS_TOPIC as string;
  const apiKeysTopic = topics.API_KEYS_TOPIC as string;

  beforeAll(async () => {
    database = await createTestDatabase('subscriptions_contract');
    service = await startSubscriptions(database.url, { env: topics });
  });
  afterAll(async () => {
    await recorder?.stop();
    await service?.close();
    await database?.drop();
  });

  it('publishes endpoint states and API key records that validate against the registry', async () => {
    const api = subscriptionsClient(service.url);
    const { partnerId, key, keyId } = await api.newPartner('Escola Azul');
    const partner = api.as(key);
    await eventually(async () => expect((await partner('GET', '/endpoints')).status).toBe(200));
    const webhook = await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/hooks', event_types: ['purchase.*'], headers: { Authorization: 'Bearer receiver-credential-0001' } });
    expect(webhook.status).toBe(201);
    const campaign = await partner('POST', '/endpoints', {
      event_types: ['purchase.abandonment_before_signed'],
      destination: {
        type: 'activecampaign',
        api_url: 'http://127.0.0.1:9/',
        api_token: 'ac-token-0123456789abcdef0123456789abcdef-7e3a',
        event_tracking: { actid: '123456', event_key: 'ac-event-key-0123456789abcdef' },
      },
    });
    expect(campaign.status).toBe(201);
    expect((await partner('POST', `/endpoints/${webhook.body.id}/secret/rotate`)).status).toBe(200);
    expect((await partner('PATCH', `/endpoints/${webhook.body.id}`, { enabled: false })).status).toBe(200);
    expect((await partner('DELETE', `/endpoints/${campaign.body.id}`)).status).toBe(204);
    const second = await api.admin('POST', `/admin/partners/${partnerId}/api-keys`);
    expect((await api.admin('POST', `/admin/partners/${partnerId}/api-keys/${second.body.id}/revoke`)).status).toBe(200);
    expect((await api.admin('POST', `/admin/partners/${partnerId}/portal-sessions`)).status).toBe(201);

    recorder = await recordTopics([endpointsTopic, apiKeysTopic]);
    const on = (topic: string) => recorder.messages.filter((m) => m.topic === topic);
    // Endpoints: created ×2, rotated, disabled, deleted. Keys: the first, the second and its revocation, the portal session.
    await eventually(() => expect({ endpoints: on(endpointsTopic).length, keys: on(apiKeysTopic).length }).toEqual({ endpoints: 5, keys: 4 }), { timeoutMs: 20_000 });

    const validator = topicRecordValidator();
    const check = (topic: string, contract: TopicName) =>
      on(topic).map((record) => ({ offset: record.offset, problems: validator.recordProblems(contract, { ...record, value: record.value.length === 0 ? null : record.value }) }));
    expect(check(endpointsTopic, Topics.endpoints).filter((r) => r.problems.length > 0)).toEqual([]);
    expect(check(apiKeysTopic, Topics.apiKeys).filter((r) => r.problems.length > 0)).toEqual([]);
    expect(
      on(endpointsTopic)
        .filter((m) => m.value.length === 0)
        .map((m) => m.key),
    ).toEqual([campaign.body.id]);
    expect(on(apiKeysTopic).map((m) => m.key)).toContain(keyId);
  });

  it('creates both topics compacted, as the registry says', async () => {
    for (const [topic, contract] of [
      [endpointsTopic, Topics.endpoints],
      [apiKeysTopic, Topics.apiKeys],
    ] as const) {
      const config = await topicConfigOnBroker(topic);
      expect({ topic: contract, policy: config['cleanup.policy'], tombstones: config['delete.retention.ms'] }).toEqual({
        topic: contract,
        policy: 'compact',
        tombstones: String(topicContract(contract).retention.deleteRetentionMs),
      });
    }
  });
});
