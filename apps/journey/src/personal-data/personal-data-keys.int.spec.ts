import { Client } from 'pg';
import { fromPurchaseStatusV2KafkaMessage, type PurchaseStatusEventV1 } from '@gancho/contracts';
import { PostgresEventStore, WHEN_APPENDED } from '@gancho/event-store';
import { KafkaTransport, type IncomingMessage } from '@gancho/messaging';
import { commandSlug, decide, initialState, purchaseStatusEventsOf, shortestPath } from '@gancho/purchase-domain';
import { SecretBox } from '@gancho/secret-box';
import { createTestDatabase, eventually, kafkaBrokers, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { journeyClient, journeyTestEnv, startJourney, TestClock } from '../testing/journey-test-app';
import { closedStatuses, PersonalDataRetention } from './personal-data-retention';

// Keys and the stores around them, on the real PostgreSQL and Kafka: master
// keys rotate (a rotated key still opens old subject keys, the re-seal moves
// them to the new one); purchases stored in clear before this release are
// sealed once, at start and by the relay; the retention period erases
// students whose purchases are all closed; v1, when turned on, never carries
// an erased student.

const masterKey = (id: string, fill: number) => `${id}:${Buffer.alloc(32, fill).toString('base64')}`;
const m1 = masterKey('m1', 21);
const m2 = masterKey('m2', 22);

async function sql<T extends object>(databaseUrl: string, text: string, parameters: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SET search_path TO journey');
    return (await client.query<T>(text, parameters)).rows;
  } finally {
    await client.end();
  }
}

async function allRowsText(databaseUrl: string): Promise<string> {
  const tables = await sql<{ table_name: string }>(databaseUrl, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'journey' AND table_type = 'BASE TABLE'");
  const parts: string[] = [];
  for (const { table_name } of tables) parts.push(...(await sql<{ row: string }>(databaseUrl, `SELECT t::text AS row FROM "${table_name}" t`)).map((r) => r.row));
  return parts.join('\n');
}

describe('master keys rotate', () => {
  let database: TestDatabase;
  let service: TestService | undefined;
  const env = journeyTestEnv();
  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  it('opens subject keys sealed under a rotated master key, re-seals them under the new one, then works without the old one', async () => {
    database = await createTestDatabase('journey_rotation');
    service = await startJourney(database.url, { env: { ...env, PERSONAL_DATA_MASTER_KEYS: m1 } });
    const student = { name: 'Lia Rotacao', email: 'lia.rotacao@example.com' };
    const purchaseId = (await journeyClient(service.url).open({ student })).body.purchase_id as string;
    await service.close();
    const [before] = await sql<{ sealed_key: string; master_key_id: string }>(database.url, 'SELECT sealed_key, master_key_id FROM data_subjects');
    expect(before?.master_key_id).toBe('m1');
    // Without m1 the subject key cannot be opened: the master key is what protects it at rest.
    expect(() => SecretBox.fromConfig(m2).open(before?.sealed_key as string)).toThrow('not configured');

    service = await startJourney(database.url, { env: { ...env, PERSONAL_DATA_MASTER_KEYS: `${m2},${m1}` } });
    expect((await journeyClient(service.url).get(purchaseId)).body.student).toMatchObject(student);
    const [after] = await sql<{ sealed_key: string; master_key_id: string }>(database.url, 'SELECT sealed_key, master_key_id FROM data_subjects');
    expect(after?.master_key_id).toBe('m2');
    expect(after?.sealed_key).not.toBe(before?.sealed_key);
    await service.close();

    service = await startJourney(database.url, { env: { ...env, PERSONAL_DATA_MASTER_KEYS: m2 } });
    expect((await journeyClient(service.url).get(purchaseId)).body.student).toMatchObject(student);
  });

  it('refuses to start without valid personal-data keys', async () => {
    const started = startJourney(database.url, { env: { ...env, PERSONAL_DATA_MASTER_KEYS: 'm1:c2hvcnQ=', PERSONAL_DATA_INDEX_KEY: 'c2hvcnQ=' } });
    await expect(started).rejects.toThrow(/PERSONAL_DATA_MASTER_KEYS[\s\S]*PERSONAL_DATA_INDEX_KEY|PERSONAL_DATA_INDEX_KEY[\s\S]*PERSONAL_DATA_MASTER_KEYS/);
  });
});

describe('purchases stored in clear before the LGPD release', () => {
  let database: TestDatabase;
  let service: TestService | undefined;
  const env = journeyTestEnv();
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'lgpd-legacy-test', maxWaitTimeMs: 200 });
  const v2: IncomingMessage[] = [];
  afterAll(async () => {
    await transport.close();
    await service?.close();
    await database?.drop();
  });

  /** Writes a purchase as release v0.1.0 did: the student in clear in PurchaseOpened, in every status event, in the read model. */
  async function appendLegacyPurchase(store: PostgresEventStore, student: { name: string; email: string }): Promise<string> {
    const purchaseId = `pur_${Date.now().toString(16).padStart(12, '0')}${Math.random().toString(16).slice(2, 12).padEnd(20, '0')}`;
    const now = new Date();
    const events = decide(
      { type: 'OpenPurchase', data: { purchaseId, partnerId: 'ptn_legacy', course: { id: 'crs_1', name: 'Curso', priceCents: 100, currency: 'BRL' }, student, studentLoggedIn: true }, metadata: { now } },
      initialState(),
    );
    const statusEvents: PurchaseStatusEventV1[] = purchaseStatusEventsOf(events);
    // Events and read model in one statement, as that release wrote them.
    await store.appendToStream(
      `purchase:${purchaseId}`,
      events.map((event, i) => ({ eventId: crypto.randomUUID(), type: event.type, data: event.data, metadata: { statusEvent: statusEvents[i] } })),
      {
        expectedVersion: 'no_stream',
        alongside: [
          {
            sql: `INSERT INTO purchases (purchase_id, partner_id, status, previous_status, phase, course, student, version, opened_at, status_changed_at, last_activity_at)
                  SELECT $1, 'ptn_legacy', 'shopping_cart_created', NULL, 'open', '{"id":"crs_1","name":"Curso","price_cents":100,"currency":"BRL"}', $2::jsonb, 1, $3, $3, $3 WHERE ${WHEN_APPENDED}`,
            parameters: [purchaseId, JSON.stringify(student), now],
          },
        ],
      },
    );
    return purchaseId;
  }

  it('seals them at start and, for any a replica of the older release writes later, before the relay publishes them', async () => {
    database = await createTestDatabase('journey_legacy');
    const atStart = { name: 'Caio Legado Inicio', email: 'caio.legado.inicio@example.com' };
    const later = { name: 'Bia Legado Depois', email: 'bia.legado.depois@example.com' };
    service = await startJourney(database.url, { env: { ...env, OUTBOX_RELAY_ENABLED: 'false' } });
    const first = await appendLegacyPurchase(service.app.get(PostgresEventStore), atStart);
    await service.close();
    expect(await allRowsText(database.url)).toContain(atStart.email);

    service = await startJourney(database.url, { env });
    await transport.subscribe({ groupId: uniqueName('legacy-reader'), topics: [env['PURCHASE_STATUS_V2_TOPIC'] as string], fromBeginning: true, handle: async (m) => void v2.push(m) });
    expect(await allRowsText(database.url)).not.toContain(atStart.email);
    const second = await appendLegacyPurchase(service.app.get(PostgresEventStore), later);

    await eventually(() => expect(v2.map((m) => m.key).sort()).toEqual([first, second].sort()), { timeoutMs: 20_000 });
    for (const record of v2) {
      expect(record.value.toString()).not.toMatch(/legado/i);
      expect(fromPurchaseStatusV2KafkaMessage(record).data.student.sealed).toMatch(/^v1\./);
    }
    const rows = await allRowsText(database.url);
    for (const text of [atStart.name, atStart.email, later.name, later.email]) expect(rows.includes(text)).toBe(false);
    const api = journeyClient(service.url);
    expect((await api.get(first)).body.student).toEqual({ subject_id: expect.stringMatching(/^sub_/), ...atStart });
    // The later one goes on under its subject.
    expect((await api.command(second, 'submit-basic-info')).status).toBe(200);
    expect((await api.get(second)).body.student).toEqual({ subject_id: expect.stringMatching(/^sub_/), ...later });
    expect(await allRowsText(database.url)).not.toContain(later.email);
  });
});

describe('retention of closed purchases and v1 during an upgrade', () => {
  let database: TestDatabase;
  let service: TestService;
  const env = journeyTestEnv();
  const clock = new TestClock(new Date('2026-12-01T10:00:00.000Z'));
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'lgpd-retention-test', maxWaitTimeMs: 200 });
  const v1: IncomingMessage[] = [];
  const day = 24 * 60 * 60 * 1000;

  beforeAll(async () => {
    database = await createTestDatabase('journey_retention');
    service = await startJourney(database.url, { clock, env: { ...env, PUBLISH_STATUS_V1: 'true', CLOSED_PURCHASE_PERSONAL_DATA_RETENTION_MS: String(30 * day) } });
    await transport.subscribe({ groupId: uniqueName('v1-reader'), topics: [env['PURCHASE_STATUS_TOPIC'] as string], fromBeginning: true, handle: async (m) => void v1.push(m) });
  });
  afterAll(async () => {
    await transport.close();
    await service?.close();
    await database?.drop();
  });

  it('erases a student whose purchases are all closed for the period, through the erasure path, counted; others stay', async () => {
    const api = journeyClient(service.url);
    const closedStudent = { name: 'Davi Fechado', email: 'davi.fechado@example.com' };
    const openStudent = { name: 'Eva Aberta', email: 'eva.aberta@example.com' };
    const closedStatus = closedStatuses.find((status) => shortestPath('shopping_cart_created', status)) as string;
    const closed = (await api.open({ student: closedStudent })).body.purchase_id as string;
    for (const step of shortestPath('shopping_cart_created', closedStatus as never) ?? []) {
      expect((await api.command(closed, commandSlug(step.command), step.decision ? { decision: step.decision } : undefined)).status).toBe(200);
    }
    const open = (await api.open({ student: openStudent })).body.purchase_id as string;
    // Published while the students live (v1 carries them in clear during the upgrade window).
    const closedEvents = (shortestPath('shopping_cart_created', closedStatus as never)?.length ?? 0) + 1;
    await eventually(() => expect(v1.filter((m) => m.key === closed)).toHaveLength(closedEvents), { timeoutMs: 20_000 });
    const retention = service.app.get(PersonalDataRetention);

    clock.advance(29 * day);
    expect(await retention.runOnce()).toBe(0);
    clock.advance(2 * day);
    expect(await retention.runOnce()).toBe(1);
    expect(await retention.runOnce()).toBe(0);

    const erased = (await api.get(closed)).body;
    expect(erased.status).toBe(closedStatus);
    expect(erased.student).toEqual({ subject_id: expect.stringMatching(/^sub_/), erased: true, erased_at: clock.now().toISOString() });
    expect((await api.get(open)).body.student).toMatchObject(openStudent);
    expect(await sql(database.url, 'SELECT requested_by FROM personal_data_erasures')).toEqual([{ requested_by: 'retention' }]);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^gancho_journey_personal_data_retention_erasures_total(\{[^}]*\})? 1$/m);

    // v1 (PUBLISH_STATUS_V1) carries the students in clear while they live, and nothing of an erased one.
    await eventually(() => expect(v1.filter((m) => m.key === open)).toHaveLength(1), { timeoutMs: 20_000 });
    expect(v1.find((m) => m.key === open)?.value.toString()).toContain(openStudent.email);
    expect((await api.request('POST', `/purchases/${open}/student/erasure`, { requested_by: 'dpo:ana' })).status).toBe(200);
    expect((await api.command(open, 'submit-basic-info')).status).toBe(200);
    // One relay publishes in store order: once a later event is on v1, the erased student's was skipped.
    const later = (await api.open({ student: { name: 'Gil Depois', email: 'gil.depois@example.com' } })).body.purchase_id as string;
    await eventually(() => expect(v1.filter((m) => m.key === later)).toHaveLength(1), { timeoutMs: 20_000 });
    expect(v1.filter((m) => m.key === open)).toHaveLength(1);
    expect(await (await fetch(`${service.url}/metrics`)).text()).toMatch(/^gancho_journey_status_v1_skipped_erased_total(\{[^}]*\})? 1$/m);
  });
});
