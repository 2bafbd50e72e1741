import { createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { SubscriptionsStandIn, TestReceiver, startDelivery, testTopics } from '../testing/delivery-test-kit';

// Scenarios, on the real PostgreSQL and broker:
// - every date-time parameter (the message log's since/until, stats, timeseries, recover, and the time inside a cursor)
//   refuses offsets no time zone has and years out of range with 400 naming the parameter, never 500;
// - offsets real zones use (+14:00, −12:00) are accepted and answered as the same instant in UTC.
describe('date-time parameters', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  let receiver: TestReceiver;
  const partner = uniqueName('ptn');
  let key: string;
  let endpointId: string;

  beforeAll(async () => {
    database = await createTestDatabase('delivery_date_times');
    await subscriptions.createTopics();
    receiver = await new TestReceiver().start();
    // Many refusals in a row: the per-key rate limit is not what this file tests.
    service = await startDelivery(database.url, topics, [receiver.host], { PARTNER_API_RATE_LIMIT_PER_SECOND: '10000', PARTNER_API_RATE_LIMIT_BURST: '10000' });
    key = await subscriptions.issueApiKey(partner);
    endpointId = (await subscriptions.putEndpoint({ partnerId: partner, url: receiver.url() })).endpointId;
    await eventually(async () => expect((await get(`/endpoints/${endpointId}/stats`)).status).toBe(200));
  });
  afterAll(async () => {
    await service?.close();
    await subscriptions.close();
    await receiver?.stop();
    await database?.drop();
  });

  const get = (path: string) => fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const post = (path: string, body: unknown) => fetch(`${service.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const outOfRange = ['2026-01-01T00:00:00-18:37', '2026-01-01T00:00:00+20:00', '2026-01-01T00:00:00+16:00', '2026-01-01T00:00:00+14:30', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59-01:00'];

  it.each(outOfRange)('refuses %s in every date-time parameter with 400 naming it', async (value) => {
    const encoded = encodeURIComponent(value);
    const calls: [string, () => Promise<Response>][] = [];
    for (const name of ['since', 'until']) {
      calls.push([name, () => get(`/messages?${name}=${encoded}`)]);
      calls.push([name, () => get(`/endpoints/${endpointId}/stats?${name}=${encoded}`)]);
      calls.push([name, () => get(`/endpoints/${endpointId}/stats/timeseries?${name}=${encoded}`)]);
    }
    calls.push(['since', () => post(`/endpoints/${endpointId}/recover`, { since: value })]);
    calls.push(['until', () => post(`/endpoints/${endpointId}/recover`, { since: '2026-01-01T00:00:00Z', until: value })]);
    for (const [name, call] of calls) {
      const response = await call();
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: name }] });
    }
    const forgedCursor = Buffer.from(`${value}|msg_00000000000000000000000000`).toString('base64url');
    const response = await get(`/messages?cursor=${forgedCursor}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'VALIDATION_FAILED', detail: 'The cursor is not one this API gave.' });
  });

  it('accepts the offsets real time zones use and answers in UTC', async () => {
    const stats = await get(`/endpoints/${endpointId}/stats?since=${encodeURIComponent('2026-01-01T00:00:00+14:00')}&until=${encodeURIComponent('2026-01-01T00:00:00-12:00')}`);
    expect(stats.status).toBe(200);
    expect(await stats.json()).toMatchObject({ since: '2025-12-31T10:00:00.000Z', until: '2026-01-01T12:00:00.000Z' });
    const series = await get(`/endpoints/${endpointId}/stats/timeseries?since=${encodeURIComponent('2026-01-01T00:00:00+14:00')}&until=${encodeURIComponent('2026-01-01T00:00:00-12:00')}`);
    expect(await series.json()).toMatchObject({ since: '2025-12-31T10:00:00.000Z', until: '2026-01-01T12:00:00.000Z' });
    expect((await get(`/messages?since=${encodeURIComponent('2026-01-01T00:00:00-03:00')}`)).status).toBe(200);
    expect((await post(`/endpoints/${endpointId}/recover`, { since: '2026-01-01T00:00:00+05:45' })).status).toBe(202);
  });
});
