import pg from 'pg';
import { cloudEventSources, cloudEventTypes } from '@gancho/contracts';
import { messageIdFor } from '@gancho/delivery-domain';
import { type IncomingMessage } from '@gancho/messaging';
import { createTestDatabase, eventually, readBackCloudEvent, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { readDeliveryTopics, SubscriptionsStandIn, TestReceiver, startDelivery, testTopics } from './testing/delivery-test-kit';

// Attempts are written in batches (one transaction for all attempts that
// finish while the previous batch commits). With the real PostgreSQL, broker
// and HTTP receivers: a burst of messages leaves every attempt logged and
// published exactly once, the messages settled, and each endpoint's health row
// right; an endpoint failing past ENDPOINT_DISABLE_AFTER_MS is reported once
// per failing spell, however many batches its failures span.
describe('attempts recorded in batches', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  let client: pg.Client;
  const receivers: TestReceiver[] = [];
  let attempts: IncomingMessage[] = [];
  let healthReports: IncomingMessage[] = [];
  let stopReaders: () => Promise<void>;

  beforeAll(async () => {
    database = await createTestDatabase('attempt_batches');
    await subscriptions.createTopics();
    receivers.push(...(await Promise.all(Array.from({ length: 5 }, () => new TestReceiver().start()))));
    service = await startDelivery(
      database.url,
      topics,
      receivers.map((r) => r.host),
      { RETRY_SCHEDULE: '0s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s', ENDPOINT_DISABLE_AFTER_MS: '1500', REQUEST_TIMEOUT_MS: '2000' },
    );
    client = new pg.Client({ connectionString: database.url, options: '-c search_path=delivery' });
    await client.connect();
    const readers = await readDeliveryTopics(subscriptions, topics);
    attempts = readers.attempts;
    healthReports = readers.healthReports;
    stopReaders = readers.stop;
  });
  afterAll(async () => {
    await stopReaders?.();
    await client?.end();
    await service?.close();
    await subscriptions.close();
    await Promise.all(receivers.map((r) => r.stop()));
    await database?.drop();
  });

  /** Endpoints are published after the service started: wait until it routes to them. */
  const settle = (partnerId: string, ...endpoints: { endpointId: string }[]) =>
    subscriptions.routedBy(
      service.url,
      partnerId,
      endpoints.map((e) => e.endpointId),
    );

  it('logs, settles and publishes every attempt of a burst once, sharing transactions', async () => {
    const partner = uniqueName('ptn');
    const healthy = receivers.slice(0, 3);
    const endpoints: { endpointId: string; secrets: string[] }[] = [];
    for (const receiver of healthy) {
      const ep = await subscriptions.putEndpoint({ partnerId: partner, url: receiver.url() });
      receiver.secrets = ep.secrets;
      endpoints.push(ep);
    }
    await settle(partner, ...endpoints);
    const events = await Promise.all(Array.from({ length: 150 }, () => subscriptions.publishStatus(partner, 'waiting_payment')));
    const expected = events.flatMap(({ eventId }) => endpoints.map((ep) => messageIdFor(eventId, ep.endpointId)));

    await eventually(() => expect(healthy.reduce((n, r) => n + r.received.length, 0)).toBe(expected.length), { timeoutMs: 30_000 });
    await eventually(async () => {
      const { rows } = await client.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM messages GROUP BY status');
      expect(rows).toEqual([{ status: 'succeeded', n: String(expected.length) }]);
    });
    const logged = await client.query<{ n: string; distinct_messages: string }>("SELECT count(*) AS n, count(DISTINCT message_id) AS distinct_messages FROM attempts WHERE outcome = 'succeeded' AND attempt_number = 1");
    expect(logged.rows[0]).toEqual({ n: String(expected.length), distinct_messages: String(expected.length) });

    // Batched: far fewer transactions than attempts wrote the attempt rows, and no copy of them went to the event store (they are relayed from their rows).
    const transactions = await client.query<{ n: string }>('SELECT count(DISTINCT transaction_id) AS n FROM attempts WHERE message_id = ANY($1)', [expected]);
    expect(Number(transactions.rows[0]!.n)).toBeLessThan(expected.length / 2);
    const copies = await client.query<{ n: string }>("SELECT count(*) AS n FROM events WHERE type = 'AttemptMade'");
    expect(copies.rows[0]!.n).toBe('0');

    await eventually(() => expect(new Set(attempts.map((a) => a.key)).size).toBeGreaterThanOrEqual(expected.length), { timeoutMs: 20_000 });
    const published = attempts.filter((a) => expected.includes(String(a.key)));
    expect(published).toHaveLength(expected.length);
    // Each record names its attempt: the same CloudEvents id if it is ever published again.
    expect(new Set(published.map((a) => a.headers['ce_id'])).size).toBe(expected.length);
    expect(published.every((a) => a.headers['ce_id'] === `${String(a.key)}:1`)).toBe(true);
    for (const record of published) readBackCloudEvent(record, { source: cloudEventSources.delivery, type: cloudEventTypes.deliveryAttempt });

    // New messages went straight from ingest to sending (no claim) while slots were free; the rest were claimed.
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    const started = (via: string) => Number(new RegExp(`^gancho_delivery_sends_started_total\\{via="${via}"[^}]*\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
    expect(started('handoff')).toBeGreaterThan(0);
    expect(started('handoff') + started('claim')).toBe(expected.length);

    const health = await client.query<{ endpoint_id: string; consecutive_failures: number; last_success_at: Date | null; first_failure_since_success_at: Date | null }>(
      'SELECT endpoint_id, consecutive_failures, last_success_at, first_failure_since_success_at FROM endpoint_health WHERE endpoint_id = ANY($1) ORDER BY endpoint_id',
      [endpoints.map((ep) => ep.endpointId)],
    );
    expect(health.rows).toHaveLength(3);
    for (const row of health.rows) expect(row).toMatchObject({ consecutive_failures: 0, first_failure_since_success_at: null, last_success_at: expect.any(Date) });
  });

  it('reports an endpoint that fails past the disable period once per failing spell; a success restarts the clock', async () => {
    const failing = receivers[3]!;
    failing.respond = () => ({ status: 503, body: 'maintenance' });
    const recovering = receivers[4]!;
    let calls = 0;
    recovering.respond = () => (++calls <= 2 ? { status: 503 } : { status: 204 });
    const partner = uniqueName('ptn');
    const failingEp = await subscriptions.putEndpoint({ partnerId: partner, url: failing.url(), eventTypes: ['purchase.document_info_review'] });
    failing.secrets = failingEp.secrets;
    const recoveringEp = await subscriptions.putEndpoint({ partnerId: partner, url: recovering.url(), eventTypes: ['purchase.document_info_review'] });
    recovering.secrets = recoveringEp.secrets;
    await settle(partner, failingEp, recoveringEp);
    // One message each: five failures would open the endpoint's circuit for 30 s.
    await subscriptions.publishStatus(partner, 'document_info_review');

    // Attempts at 0 s, 1 s, 2 s…: the one at 2 s has failed for longer than the 1.5 s allowed.
    await eventually(() => expect(healthReports.filter((m) => m.key === failingEp.endpointId)).toHaveLength(1), { timeoutMs: 15_000 });
    const reportRecord = healthReports.find((m) => m.key === failingEp.endpointId)!;
    readBackCloudEvent(reportRecord, { source: cloudEventSources.delivery, type: cloudEventTypes.endpointHealth });
    const report = JSON.parse(reportRecord.value.toString());
    expect(report).toMatchObject({ endpoint_id: failingEp.endpointId, partner_id: partner, reason: 'failing', detail: expect.stringContaining('never delivered successfully') });
    // Later failures of the same spell are not reported again.
    await eventually(() => expect(failing.received.length).toBeGreaterThanOrEqual(4), { timeoutMs: 10_000 });
    await eventually(async () => {
      const { rows } = await client.query('SELECT consecutive_failures, reported_at FROM endpoint_health WHERE endpoint_id = $1', [failingEp.endpointId]);
      expect(rows[0].consecutive_failures).toBeGreaterThanOrEqual(4);
      expect(rows[0].reported_at).toEqual(expect.any(Date));
    });
    expect(healthReports.filter((m) => m.key === failingEp.endpointId)).toHaveLength(1);

    await eventually(() => expect(recovering.received).toHaveLength(3), { timeoutMs: 10_000 });
    await eventually(async () => {
      const { rows } = await client.query('SELECT consecutive_failures, first_failure_since_success_at, last_success_at, reported_at FROM endpoint_health WHERE endpoint_id = $1', [recoveringEp.endpointId]);
      expect(rows[0]).toEqual({ consecutive_failures: 0, first_failure_since_success_at: null, last_success_at: expect.any(Date), reported_at: null });
    });
    expect(healthReports.filter((m) => m.key === recoveringEp.endpointId)).toHaveLength(0);
  });

  it("publishes an attempt row a pod of the previous release wrote (no partner id) only through that release's event, not twice", async () => {
    const partner = uniqueName('ptn');
    const receiver = receivers[4]!;
    const ep = await subscriptions.putEndpoint({ partnerId: partner, url: receiver.url() });
    receiver.secrets = ep.secrets;
    await settle(partner, ep);
    // As v0.1.0 writes it: the attempt row without partner id and event type (its AttemptMade event goes out through the event store).
    const legacyMessage = `msg_legacy_${uniqueName('m').replace(/[^a-z0-9]/g, '')}`;
    await client.query(
      `INSERT INTO messages (message_id, event_id, endpoint_id, partner_id, event_type, purchase_id, payload, status, attempts, event_recorded_at, sequence, ordered)
       VALUES ($1, gen_random_uuid(), $2, $3, 'purchase.logged', 'pur_legacy', '{}', 'succeeded', 1, now(), 1, false)`,
      [legacyMessage, ep.endpointId, partner],
    );
    await client.query(`INSERT INTO attempts (message_id, attempt_number, endpoint_id, started_at, finished_at, latency_ms, status_code, outcome) VALUES ($1, 1, $2, now(), now(), 3, 204, 'succeeded')`, [
      legacyMessage,
      ep.endpointId,
    ]);
    // A later attempt of this release: once its record is out, the relay has read past the legacy row.
    const { eventId } = await subscriptions.publishStatus(partner, 'made_effective');
    const current = messageIdFor(eventId, ep.endpointId);
    await eventually(() => expect(attempts.some((a) => a.key === current)).toBe(true), { timeoutMs: 30_000 });
    expect(attempts.filter((a) => a.key === legacyMessage)).toEqual([]);
  });
});
