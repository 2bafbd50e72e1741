import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { defaultActiveCampaignMapping, endpointDestinationSecretContext, endpointSecretContext, type EndpointStateV1 } from '@gancho/contracts';
import { ActiveCampaignFake, createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { generateSecret } from '@gancho/webhook-signing';
import { routesVersion, secretBox, startDelivery, SubscriptionsStandIn, testTopics } from '../../testing/delivery-test-kit';

// Scenarios, with the delivery service in-process (real PostgreSQL and Kafka) and the local ActiveCampaign server:
// - a message AC refuses (422, invalid e-mail) fails for good after one attempt, logged with AC's error text;
// - a 429 with Retry-After is retried then (not by the schedule), and the message succeeds on the next attempt;
// - a 500 is retried by the schedule; resend sends a succeeded message again as a new attempt;
// - a token AC refuses (403) fails the message and asks subscriptions to disable the endpoint ('unauthorized');
//   with a new token, recover sends the failed message again and it succeeds;
// - the test send of the delivery API syncs the example contact;
// - the attempt log holds the AC calls, never the token.
describe('ActiveCampaign destination in the delivery service', () => {
  const token = 'ac-delivery-token-8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a';
  const fake = new ActiveCampaignFake({ tokens: [token] });
  const topics = testTopics();
  const standIn = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let delivery: TestService;
  let db: pg.Client;
  let partnerId: string;
  let key: string;

  const putActiveCampaignEndpoint = async (apiToken: string, endpointId = `ep_${randomBytes(8).toString('hex')}`, version = 1): Promise<string> => {
    const now = new Date().toISOString();
    const state: EndpointStateV1 = {
      endpoint_id: endpointId,
      partner_id: partnerId,
      url: fake.apiUrl,
      destination: {
        type: 'activecampaign',
        api_url: fake.apiUrl,
        api_token_sealed: secretBox.seal(apiToken, endpointDestinationSecretContext(endpointId)),
        mapping: defaultActiveCampaignMapping(),
      },
      description: 'ActiveCampaign',
      event_types: ['*'],
      enabled: true,
      disabled_reason: null,
      disabled_detail: null,
      headers: {},
      rate_limit_per_second: null,
      ordering: 'none',
      signing_secrets: [{ sealed: secretBox.seal(generateSecret(randomBytes), endpointSecretContext(endpointId)), valid_from: now, valid_until: null }],
      version,
      created_at: now,
      updated_at: now,
    };
    await standIn.transport.publish(topics.ENDPOINTS_TOPIC, [{ key: endpointId, value: JSON.stringify(state) }]);
    return endpointId;
  };
  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${delivery.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, body: (await response.json().catch(() => undefined)) as any };
  };
  const messageOf = async (eventId: string) => {
    const { rows } = await db.query<{ message_id: string }>('SELECT message_id FROM messages WHERE event_id = $1', [eventId]);
    expect(rows).toHaveLength(1);
    return (await api(`/messages/${rows[0]?.message_id}`)).body;
  };
  const student = (email: string) => ({ student: { name: 'Lia Moreira', email }, purchase_id: uniqueName('pur') });

  beforeAll(async () => {
    database = await createTestDatabase('ac_delivery');
    await fake.start();
    await standIn.createTopics();
    delivery = await startDelivery(database.url, topics, [fake.host], { RETRY_SCHEDULE: '0s,1s,1s,1s', REQUEST_TIMEOUT_MS: '10000' });
    db = new pg.Client({ connectionString: database.url, options: '-c search_path=delivery' });
    await db.connect();
    partnerId = uniqueName('ptn');
    key = await standIn.issueApiKey(partnerId);
  });
  afterAll(async () => {
    await db?.end();
    await delivery?.close();
    await standIn.close();
    await fake.stop();
    await database?.drop();
  });

  it('fails a message ActiveCampaign refuses (422) for good, with its error text', async () => {
    await routesVersion(delivery, await putActiveCampaignEndpoint(token), 1);
    const { eventId } = await standIn.publishStatus(partnerId, 'expired', student('lia@escola.invalid'));
    await eventually(async () => expect((await messageOf(eventId)).status).toBe('failed'));
    const message = await messageOf(eventId);
    expect(message.attempts).toHaveLength(1);
    expect(message.attempts[0]).toMatchObject({
      status_code: 422,
      outcome: 'failed',
      error_message: 'Email address is invalid: lia@escola.invalid (/data/attributes/email) [email_invalid]',
    });
    expect(message.attempts[0].response_snippet).toContain('POST /api/3/contact/sync → 422');
    expect(JSON.stringify(message)).not.toContain(token);
  });

  it('retries a 429 when Retry-After says, a 500 by the schedule, and resends on request', async () => {
    fake.failNext(1, { status: 429, headers: { 'retry-after': '2' }, body: { message: 'Too Many Requests' } }, 'POST', '/api/3/contact/sync');
    const throttled = await standIn.publishStatus(partnerId, 'link_inactive', student('lia.moreira@escola.example'));
    await eventually(async () => expect((await messageOf(throttled.eventId)).status).toBe('succeeded'), { timeoutMs: 20_000 });
    const [first, second] = (await messageOf(throttled.eventId)).attempts;
    expect(first).toMatchObject({ status_code: 429, outcome: 'scheduled' });
    const waitedMs = Date.parse(first.next_attempt_at) - Date.parse(first.started_at) - first.latency_ms;
    expect(waitedMs).toBeGreaterThanOrEqual(1900);
    expect(second).toMatchObject({ outcome: 'succeeded' });
    expect(fake.contact('lia.moreira@escola.example')?.tags).toEqual(['gancho:link_inactive', 'gancho:cart_recovery']);

    fake.failNext(1, { status: 500, body: { message: 'boom' } }, 'POST', '/api/3/contactTags');
    const broken = await standIn.publishStatus(partnerId, 'expired', student('lia.moreira@escola.example'));
    await eventually(async () => expect((await messageOf(broken.eventId)).status).toBe('succeeded'), { timeoutMs: 20_000 });
    const brokenMessage = await messageOf(broken.eventId);
    expect(brokenMessage.attempts.map((a: { status_code: number; outcome: string }) => [a.status_code, a.outcome])).toEqual([
      [500, 'scheduled'],
      [expect.any(Number), 'succeeded'],
    ]);
    expect(brokenMessage.attempts[0].error_message).toBe('boom');

    const syncsBefore = fake.requests.filter((r) => r.path === '/api/3/contact/sync').length;
    expect((await api(`/messages/${brokenMessage.id ?? brokenMessage.message_id}/resend`, { method: 'POST' })).status).toBe(202);
    await eventually(async () => expect((await messageOf(broken.eventId)).attempts).toHaveLength(3));
    expect((await messageOf(broken.eventId)).attempts[2]).toMatchObject({ outcome: 'succeeded' });
    expect(fake.requests.filter((r) => r.path === '/api/3/contact/sync').length).toBe(syncsBefore + 1);
  });

  it('asks subscriptions to disable an endpoint whose token ActiveCampaign refuses', async () => {
    const endpointId = await putActiveCampaignEndpoint('ac-revoked-token-000000000000000000000000000');
    await routesVersion(delivery, endpointId, 1);
    const { eventId } = await standIn.publishStatus(partnerId, 'made_effective', student('rui@escola.example'));
    await eventually(async () => {
      const { rows } = await db.query<{ data: { endpoint_id: string; reason: string; detail: string } }>("SELECT data FROM events WHERE type = 'EndpointHealthReported'");
      expect(rows.map((r) => r.data).filter((d) => d.endpoint_id === endpointId)).toEqual([
        expect.objectContaining({
          reason: 'unauthorized',
          detail: `ActiveCampaign refused the API token (403) at ${fake.apiUrl}: The API token is not valid for this account.. Give the endpoint a valid token and re-enable it.`,
        }),
      ]);
    });
    // Both endpoints got the event; the one with the refused token failed it (recoverable once re-enabled).
    await eventually(async () => {
      const messages = (await db.query<{ status: string }>('SELECT status FROM messages WHERE event_id = $1', [eventId])).rows;
      expect(messages.map((m) => m.status).sort()).toEqual(['failed', 'succeeded']);
    });

    // The partner gives a valid token (a new state of the endpoint) and recovers what failed.
    const since = new Date(Date.now() - 60_000).toISOString();
    await putActiveCampaignEndpoint(token, endpointId, 2);
    await routesVersion(delivery, endpointId, 2);
    expect((await api(`/endpoints/${endpointId}/recover`, { method: 'POST', body: JSON.stringify({ since }) })).body).toEqual({ endpoint_id: endpointId, resent: 1 });
    await eventually(async () => {
      const { rows } = await db.query<{ status: string; attempts: number }>('SELECT status, attempts FROM messages WHERE event_id = $1 AND endpoint_id = $2', [eventId, endpointId]);
      expect(rows).toEqual([{ status: 'succeeded', attempts: 2 }]);
    });
  });

  it('syncs the example contact on a test send', async () => {
    const endpointId = await putActiveCampaignEndpoint(token);
    await routesVersion(delivery, endpointId, 1);
    const sent = await api(`/endpoints/${endpointId}/test`, { method: 'POST', body: JSON.stringify({ event_type: 'purchase.link_inactive' }) });
    expect(sent.status).toBe(202);
    await eventually(async () => expect((await api(`/messages/${sent.body.message_id}`)).body.status).toBe('succeeded'));
    expect(fake.contact('maria.silva@example.com')).toMatchObject({ firstName: 'Maria', lastName: 'Silva', fields: { GANCHO_STATUS: 'link_inactive' } });
  });
});
