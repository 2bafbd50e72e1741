import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { SubscriptionsStandIn, startDelivery, testTopics } from '../testing/delivery-test-kit';

// Retention on the real PostgreSQL, enforced by the service's own job (a short
// scan interval) with periods of one day (messages, held status events) and one
// hour (response snippets and error texts): rows older than their store's period go — a settled
// message with its attempts, a snippet and error text (the attempt stays), a held event — and
// younger ones stay, as does a message still being delivered however old; the
// job's metrics say what it purged, when it last ran, and how old the oldest row left is.
const hour = 3_600_000;
const day = 24 * hour;

/** The value of a sample of a Prometheus exposition, by name and `store` label. */
function sample(text: string, name: string, store: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`store="${store}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('retention of delivery stores', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  let client: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase('delivery_retention');
    await subscriptions.createTopics();
    service = await startDelivery(database.url, topics, [], {
      RETENTION_MS: String(day),
      RESPONSE_SNIPPET_RETENTION_MS: String(hour),
      HELD_STATUS_EVENT_RETENTION_MS: String(day),
      RETENTION_SCAN_INTERVAL_MS: '200',
    });
    client = new pg.Client({ connectionString: database.url, options: '-c search_path=delivery' });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await service?.close();
    await subscriptions.close();
    await database?.drop();
  });

  const ago = (ms: number) => new Date(Date.now() - ms);

  /** A message created `age` ago, with one attempt finished then whose response snippet and error text name the student. */
  async function message(status: string, age: number): Promise<string> {
    const messageId = uniqueName('msg');
    const at = ago(age);
    await client.query(
      `INSERT INTO messages (message_id, event_id, endpoint_id, partner_id, event_type, purchase_id, payload, status, attempts, created_at, event_recorded_at)
       VALUES ($1, $2, 'ep_retention', 'ptn_retention', 'purchase.made_effective', 'pur_retention', $3, $4, 1, $5, $5)`,
      [messageId, randomUUID(), '{"data":{"student":{"name":"Ana Retida","email":"ana.retida@example.com"}}}', status, at],
    );
    await client.query(
      `INSERT INTO attempts (message_id, attempt_number, endpoint_id, partner_id, event_type, started_at, finished_at, latency_ms, status_code, outcome, response_snippet, error_message)
       VALUES ($1, 1, 'ep_retention', 'ptn_retention', 'purchase.made_effective', $2, $2, 12, 200, 'succeeded', 'received ana.retida@example.com', 'contact ana.retida@example.com exists')`,
      [messageId, at],
    );
    return messageId;
  }

  async function heldEvent(age: number): Promise<number> {
    const offset = Math.floor(Math.random() * 1e9);
    await client.query(`INSERT INTO held_status_events (topic, "partition", "offset", key, headers, value, problems, held_at) VALUES ('t', 0, $1, 'k', '{}', $2, 'unknown field', $3)`, [
      offset,
      Buffer.from('{"student":{"email":"ana.retida@example.com"}}'),
      ago(age),
    ]);
    return offset;
  }

  it('purges rows older than their store period, keeps younger ones, and reports on /metrics', async () => {
    const [expired, snippetExpired, young, inFlight] = [await message('succeeded', 2 * day), await message('exhausted', 3 * hour), await message('succeeded', 10 * 60_000), await message('sending', 2 * day)];
    const [heldOld, heldYoung] = [await heldEvent(2 * day), await heldEvent(hour)];

    await eventually(async () => {
      const messages = await client.query<{ message_id: string }>('SELECT message_id FROM messages ORDER BY message_id');
      expect(messages.rows.map((r) => r.message_id).sort()).toEqual([snippetExpired, young, inFlight].sort());
      const snippets = await client.query<{ message_id: string; response_snippet: string | null; error_message: string | null }>('SELECT message_id, response_snippet, error_message FROM attempts');
      expect(Object.fromEntries(snippets.rows.map((r) => [r.message_id, [r.response_snippet, r.error_message]]))).toEqual({
        [snippetExpired]: [null, null],
        [young]: ['received ana.retida@example.com', 'contact ana.retida@example.com exists'],
        // Still being delivered, so kept; its snippet is older than an hour all the same.
        [inFlight]: [null, null],
      });
      const held = await client.query<{ offset: string }>('SELECT "offset" FROM held_status_events');
      expect(held.rows.map((r) => Number(r.offset))).toEqual([heldYoung]);
    });
    // The expired message took its attempts with it; the old held event is gone.
    expect((await client.query('SELECT 1 FROM attempts WHERE message_id = $1', [expired])).rowCount).toBe(0);
    expect((await client.query('SELECT 1 FROM held_status_events WHERE "offset" = $1', [heldOld])).rowCount).toBe(0);

    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(sample(metrics, 'gancho_retention_purged_rows_total', 'delivery.messages')).toBe(1);
    expect(sample(metrics, 'gancho_retention_purged_rows_total', 'delivery.response_snippets')).toBe(2);
    expect(sample(metrics, 'gancho_retention_purged_rows_total', 'delivery.held_status_events')).toBe(1);
    expect(sample(metrics, 'gancho_retention_period_seconds', 'delivery.response_snippets')).toBe(3600);
    for (const store of ['delivery.messages', 'delivery.response_snippets', 'delivery.held_status_events', 'delivery.outbox_events']) {
      expect({ store, lastRun: (sample(metrics, 'gancho_retention_last_run_timestamp_seconds', store) ?? 0) > Date.now() / 1000 - 60 }).toEqual({ store, lastRun: true });
    }
    // The oldest settled message left is three hours old; the oldest snippet left ten minutes.
    const oldestMessage = sample(metrics, 'gancho_retention_oldest_row_age_seconds', 'delivery.messages') ?? 0;
    expect(oldestMessage).toBeGreaterThanOrEqual(3 * 3600);
    expect(oldestMessage).toBeLessThan(4 * 3600);
    const oldestSnippet = sample(metrics, 'gancho_retention_oldest_row_age_seconds', 'delivery.response_snippets') ?? 0;
    expect(oldestSnippet).toBeGreaterThanOrEqual(600);
    expect(oldestSnippet).toBeLessThan(3600);
  });

  it('refuses a retention period under an hour at start', async () => {
    await expect(startDelivery(database.url, testTopics(), [], { RETENTION_MS: '60000' })).rejects.toThrow(/RETENTION_MS: a retention period is at least an hour/);
  });
});
