import path from 'node:path';
import { createTestDatabase, expectLiveAndReady, startServiceProcess, type ServiceProcess, type TestDatabase } from '@gancho/testing';
import { journeyTestEnv } from './testing/journey-test-app';

// The built service, run as `node dist/main.js` against the real PostgreSQL and Kafka:
// it listens, answers its health routes, and exits 0 on SIGTERM.
describe('journey service process', () => {
  let database: TestDatabase;
  let service: ServiceProcess;

  beforeAll(async () => {
    database = await createTestDatabase('journey');
    service = await startServiceProcess(path.join(__dirname, '..', 'dist', 'main.js'), {
      ...journeyTestEnv(),
      DATABASE_URL: database.url,
    });
  });
  afterAll(async () => {
    await service?.kill();
    await database?.drop();
  });

  it('is live and ready with its database and event transport', async () => {
    await expectLiveAndReady(service.url);
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await service.stop()).toBe(0);
  });
});
