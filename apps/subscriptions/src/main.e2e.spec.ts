import path from 'node:path';
import { createTestDatabase, expectLiveAndReady, eventually, requireEnv, startServiceProcess, uniqueName, type ServiceProcess, type TestDatabase } from '@gancho/testing';
import { adminToken, subscriptionsClient, testEncryptionKey } from './testing/subscriptions-test-app';

// The built service, run as `node dist/main.js` against the real PostgreSQL and Kafka:
// it listens, answers its health routes, serves a partner end to end, and exits 0 on SIGTERM.
describe('subscriptions service process', () => {
  let database: TestDatabase;
  let service: ServiceProcess;

  beforeAll(async () => {
    database = await createTestDatabase('subscriptions');
    service = await startServiceProcess(path.join(__dirname, '..', 'dist', 'main.js'), {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
      SUBSCRIPTIONS_ADMIN_TOKENS: adminToken,
      SECRETS_ENCRYPTION_KEY: testEncryptionKey,
      ALLOW_HTTP_ENDPOINTS: 'true',
      ALLOW_PRIVATE_NETWORK_ENDPOINTS: 'true',
      ENDPOINTS_TOPIC: uniqueName('test.e2e-endpoints'),
      API_KEYS_TOPIC: uniqueName('test.e2e-api-keys'),
      ENDPOINT_HEALTH_CONSUMER_GROUP: uniqueName('test.e2e-health'),
    });
  });
  afterAll(async () => {
    await service?.kill();
    await database?.drop();
  });

  it('is live and ready with its database and event transport', async () => {
    await expectLiveAndReady(service.url);
  });

  it('serves a partner: key, endpoint, secret', async () => {
    const api = subscriptionsClient(service.url);
    const { key } = await api.newPartner('Escola E2E');
    const partner = api.as(key);
    await eventually(async () => expect((await partner('GET', '/endpoints')).status).toBe(200));
    const endpoint = await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/hook', event_types: ['purchase.*'] });
    expect(endpoint.status).toBe(201);
    expect((await partner('GET', `/endpoints/${endpoint.body.id}/secret`)).body.current.secret).toMatch(/^whsec_/);
    expect((await fetch(`${service.url}/docs-json`)).status).toBe(200);
  });

  it('refuses to start without its secrets, naming them and not echoing values', async () => {
    const failed = startServiceProcess(path.join(__dirname, '..', 'dist', 'main.js'), {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
      SUBSCRIPTIONS_ADMIN_TOKENS: 'short',
      SECRETS_ENCRYPTION_KEY: 'c2hvcnQta2V5',
    });
    await expect(failed).rejects.toThrow(/SUBSCRIPTIONS_ADMIN_TOKENS[\s\S]*SECRETS_ENCRYPTION_KEY/);
    await failed.catch((error: Error) => expect(error.message).not.toContain('c2hvcnQta2V5'));
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await service.stop()).toBe(0);
  });
});
