import pg from 'pg';
import { createTestDatabase, eventually, type TestDatabase, type TestService } from '@gancho/testing';
import { journeyClient, startJourney } from '../testing/journey-test-app';

// Retention of the platform's stored idempotent answers, on the real PostgreSQL, by the
// service's own job (a short scan interval, a period of a day): an answer stored two days
// ago is deleted, so its key no longer replays; one stored now stays and replays; /metrics
// counts the purge and shows the oldest answer left.
describe('retention of idempotent answers', () => {
  let database: TestDatabase;
  let journey: TestService;
  let client: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase('journey_idempotency_retention');
    journey = await startJourney(database.url, { env: { IDEMPOTENCY_KEY_RETENTION_MS: String(24 * 3_600_000), RETENTION_SCAN_INTERVAL_MS: '200' } });
    client = new pg.Client({ connectionString: database.url, options: '-c search_path=journey' });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await journey?.close();
    await database?.drop();
  });

  it('deletes answers older than the period and keeps younger ones', async () => {
    const api = journeyClient(journey.url);
    const [old, young] = [{ 'idempotency-key': 'open-old-0001' }, { 'idempotency-key': 'open-young-0001' }];
    expect((await api.open({}, old)).status).toBe(201);
    await client.query(`UPDATE idempotency_keys SET created_at = now() - interval '2 days' WHERE key = $1`, [old['idempotency-key']]);
    expect((await api.open({}, young)).status).toBe(201);

    await eventually(async () => expect((await client.query<{ key: string }>('SELECT key FROM idempotency_keys')).rows.map((r) => r.key)).toEqual([young['idempotency-key']]));
    // The young key replays its answer; the old one is a new request (a new purchase).
    expect((await api.open({}, young)).headers.get('idempotent-replayed')).toBe('true');
    expect((await api.open({}, old)).headers.get('idempotent-replayed')).toBeNull();

    const metrics = await (await fetch(`${journey.url}/metrics`)).text();
    const value = (name: string) =>
      Number(
        metrics
          .split('\n')
          .find((l) => l.startsWith(`${name}{`) && l.includes('store="journey.idempotency_keys"'))
          ?.split(' ')
          .at(-1),
      );
    expect(value('gancho_retention_purged_rows_total')).toBeGreaterThanOrEqual(1);
    expect(value('gancho_retention_oldest_row_age_seconds')).toBeLessThan(3600);
    expect(value('gancho_retention_last_run_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
  });
});
