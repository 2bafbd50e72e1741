import { createTestDatabase, requireEnv, startTestService, type TestDatabase, type TestService } from '@gancho/testing';
import { createServiceApp } from './create-service-app';
import { ServiceCoreModule } from './service-core.module';

const ProbeServiceModule = () => createServiceApp(ServiceCoreModule.forRoot({ service: 'kit_probe', defaultPort: 0, migrations: [] }), { logger: false });

// Scenarios, with the real PostgreSQL and Kafka:
// - live answers 200 without touching dependencies;
// - ready answers 200 when the database and the transport both answer;
// - ready answers 503 and names the transport when Kafka is unreachable;
// - start-up fails with the missing key's name when configuration is incomplete.
describe('service core: configuration, database and health routes', () => {
  let database: TestDatabase;
  let service: TestService | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('service_kit');
  });
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });
  afterAll(() => database.drop());

  it('reports live and ready with the real database and broker', async () => {
    service = await startTestService(ProbeServiceModule, { DATABASE_URL: database.url, KAFKA_BROKERS: requireEnv('KAFKA_BROKERS') });

    const live = await fetch(`${service.url}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'ok' });

    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, transport: { status: 'up' } },
    });
  });

  it('creates its own schema at start', async () => {
    service = await startTestService(ProbeServiceModule, { DATABASE_URL: database.url, KAFKA_BROKERS: requireEnv('KAFKA_BROKERS') });
    const { Client } = await import('pg');
    const client = new Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query("SELECT 1 FROM information_schema.tables WHERE table_schema = 'kit_probe' AND table_name = 'migrations'");
    await client.end();
    expect(rows).toHaveLength(1);
  });

  it('is not ready when the event transport is unreachable', async () => {
    service = await startTestService(ProbeServiceModule, { DATABASE_URL: database.url, KAFKA_BROKERS: '127.0.0.1:1' });

    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'error',
      info: { database: { status: 'up' } },
      error: { transport: { status: 'down' } },
    });
  });

  it('refuses to start without its configuration, naming what is missing', async () => {
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      await expect(startTestService(ProbeServiceModule, { KAFKA_BROKERS: requireEnv('KAFKA_BROKERS') })).rejects.toThrow(/DATABASE_URL is required/);
    } finally {
      process.env.DATABASE_URL = saved;
    }
  });
});
