import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { SubscriptionsStandIn, TestReceiver, startDelivery, testTopics } from '../testing/delivery-test-kit';

// Scenarios, on the real PostgreSQL and broker:
// - attempts recorded at known times are counted per bucket from `since`: attempts, succeeded, failed, success rate,
//   latency p50/p95/max; empty buckets are present with zero attempts, and the points add up to the window;
// - a real test send shows up in the current bucket;
// - without a bucket, one is chosen for about 120 points (24 h → 15m);
// - another partner's endpoint is 404; an unknown bucket, since after until and too many buckets are 400.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (response: Promise<Response>): Promise<any> => (await response).json();

describe('endpoint stats over time', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  let receiver: TestReceiver;
  const partner = uniqueName('ptn');
  let key: string;
  let otherKey: string;
  let endpointId: string;

  beforeAll(async () => {
    database = await createTestDatabase('delivery_timeseries');
    await subscriptions.createTopics();
    receiver = await new TestReceiver().start();
    service = await startDelivery(database.url, topics, [receiver.host]);
    key = await subscriptions.issueApiKey(partner);
    otherKey = await subscriptions.issueApiKey(uniqueName('ptn'));
    const endpoint = await subscriptions.putEndpoint({ partnerId: partner, url: receiver.url() });
    endpointId = endpoint.endpointId;
    receiver.secrets = endpoint.secrets;
  });
  afterAll(async () => {
    await service?.close();
    await subscriptions.close();
    await receiver?.stop();
    await database?.drop();
  });

  const call = (path: string, as = key) => fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${as}` } });

  /** Writes a message with attempts finished at the given times, as the dispatcher would have. */
  async function recordAttempts(attempts: { at: Date; latencyMs: number; succeeded: boolean }[]): Promise<void> {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const messageId = `msg_${randomUUID().replace(/-/g, '')}`;
      await client.query(
        `INSERT INTO delivery.messages (message_id, event_id, endpoint_id, partner_id, event_type, purchase_id, payload, status, attempts, event_recorded_at)
         VALUES ($1, $2, $3, $4, 'purchase.paid', 'pur_1', '{}', 'succeeded', $5, now())`,
        [messageId, randomUUID(), endpointId, partner, attempts.length],
      );
      for (const [i, attempt] of attempts.entries()) {
        await client.query(
          `INSERT INTO delivery.attempts (message_id, attempt_number, endpoint_id, started_at, finished_at, latency_ms, status_code, outcome)
           VALUES ($1, $2, $3, $4, $4, $5, $6, $7)`,
          [messageId, i + 1, endpointId, attempt.at.toISOString(), attempt.latencyMs, attempt.succeeded ? 200 : 500, attempt.succeeded ? 'succeeded' : 'scheduled'],
        );
      }
    } finally {
      await client.end();
    }
  }

  it('counts attempts, success rate and latency per bucket, with empty buckets in between', async () => {
    await eventually(async () => expect((await call(`/endpoints/${endpointId}/stats`)).status).toBe(200));
    const since = new Date('2026-01-05T10:00:00.000Z');
    const at = (minutes: number, seconds = 0) => new Date(since.getTime() + minutes * 60_000 + seconds * 1000);
    await recordAttempts([
      { at: at(0, 5), latencyMs: 100, succeeded: true },
      { at: at(0, 30), latencyMs: 300, succeeded: false },
      { at: at(0, 59), latencyMs: 200, succeeded: true },
      { at: at(3, 1), latencyMs: 40, succeeded: false },
      // Outside the window: before it and at its end (until is exclusive).
      { at: at(-1), latencyMs: 1, succeeded: true },
      { at: at(5), latencyMs: 1, succeeded: true },
    ]);
    const series = await json(call(`/endpoints/${endpointId}/stats/timeseries?since=${since.toISOString()}&until=${at(5).toISOString()}&bucket=1m`));
    expect(series).toMatchObject({ endpoint_id: endpointId, since: since.toISOString(), until: at(5).toISOString(), bucket: '1m', bucket_seconds: 60 });
    const empty = (minutes: number) => ({ start: at(minutes).toISOString(), attempts: 0, succeeded: 0, failed: 0, success_rate: null, latency_ms: { p50: null, p95: null, max: null } });
    expect(series.points).toEqual([
      { start: at(0).toISOString(), attempts: 3, succeeded: 2, failed: 1, success_rate: 2 / 3, latency_ms: { p50: 200, p95: 290, max: 300 } },
      empty(1),
      empty(2),
      { start: at(3).toISOString(), attempts: 1, succeeded: 0, failed: 1, success_rate: 0, latency_ms: { p50: 40, p95: 40, max: 40 } },
      empty(4),
    ]);
  });

  it('shows a real test send in the current bucket, and picks a bucket for about 120 points', async () => {
    expect(
      (
        await fetch(`${service.url}/endpoints/${endpointId}/test`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ event_type: 'purchase.paid' }),
        })
      ).status,
    ).toBe(202);
    await eventually(async () => {
      const series = await json(call(`/endpoints/${endpointId}/stats/timeseries`));
      expect(series.bucket).toBe('15m');
      expect(series.points).toHaveLength(96);
      const total = series.points.reduce((sum: number, p: { attempts: number }) => sum + p.attempts, 0);
      expect(total).toBe(1);
      expect(series.points.at(-1)).toMatchObject({ attempts: 1, succeeded: 1, success_rate: 1, latency_ms: { p50: expect.any(Number) } });
    });
    const now = Date.now();
    const hour = await json(call(`/endpoints/${endpointId}/stats/timeseries?since=${new Date(now - 3600_000).toISOString()}&until=${new Date(now).toISOString()}`));
    expect(hour).toMatchObject({ bucket: '1m', bucket_seconds: 60 });
    expect(hour.points).toHaveLength(60);
  });

  it('answers 404 for another partner and 400 for a bad window or bucket', async () => {
    expect(await json(call(`/endpoints/${endpointId}/stats/timeseries`, otherKey))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    for (const query of ['bucket=2m', 'since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', 'since=2025-01-01T00:00:00Z&until=2026-01-01T00:00:00Z&bucket=1m', 'colour=blue']) {
      const response = await call(`/endpoints/${endpointId}/stats/timeseries?${query}`);
      expect({ query, status: response.status, code: ((await response.json()) as { code: string }).code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
    }
  });
});
