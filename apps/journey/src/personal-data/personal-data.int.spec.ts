import { Client } from 'pg';
import { fromPurchaseStatusV2KafkaMessage, subjectDataContext, subjectKeyTransportContext, Topics, type PersonalDataErasureV1, type PurchaseStatusEventV2, type SubjectKeyRecordV1 } from '@gancho/contracts';
import { KafkaTransport, type IncomingMessage } from '@gancho/messaging';
import { SecretBox } from '@gancho/secret-box';
import { topicRecordValidator } from '@gancho/service-kit';
import { createTestDatabase, eventually, kafkaBrokers, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { happyPath, journeyClient, journeyTestEnv, startJourney, testTransportKeys } from '../testing/journey-test-app';

// LGPD in journey, on the real PostgreSQL and Kafka: students' names and
// e-mails are stored and published only sealed under their subject key;
// erasure destroys the key (crypto-shredding) so nothing of them can be read
// back from any table or topic; erasure is idempotent, audited and answers
// problem+json for what it cannot do.

const student = { name: 'Joana Prates Lgpd', email: 'joana.prates.lgpd@example.com' };
const other = { name: 'Rui Bastos Lgpd', email: 'rui.bastos.lgpd@example.com' };

/** Every row of every table of the database, as text: what a byte search of a dump sees. */
async function everyRow(databaseUrl: string): Promise<string> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ table_schema: string; table_name: string }>(
      `SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    const texts: string[] = [];
    for (const { table_schema, table_name } of tables.rows) {
      const rows = await client.query<{ row: string }>(`SELECT t::text AS row FROM "${table_schema}"."${table_name}" t`);
      texts.push(`${table_schema}.${table_name}:`, ...rows.rows.map((r) => r.row));
    }
    return texts.join('\n');
  } finally {
    await client.end();
  }
}

async function query<T extends object>(databaseUrl: string, sql: string, parameters: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SET search_path TO journey');
    return (await client.query<T>(sql, parameters)).rows;
  } finally {
    await client.end();
  }
}

describe('personal data in journey (LGPD)', () => {
  let database: TestDatabase;
  let service: TestService;
  const env = journeyTestEnv();
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'lgpd-test', maxWaitTimeMs: 200 });
  const records: Record<'v2' | 'keys' | 'erasures' | 'v1', IncomingMessage[]> = { v2: [], keys: [], erasures: [], v1: [] };
  const transportBox = SecretBox.fromConfig(testTransportKeys);
  let api: ReturnType<typeof journeyClient>;

  beforeAll(async () => {
    database = await createTestDatabase('journey_lgpd');
    service = await startJourney(database.url, { env });
    api = journeyClient(service.url);
    const topics = {
      [env['PURCHASE_STATUS_V2_TOPIC'] as string]: records.v2,
      [env['SUBJECT_KEYS_TOPIC'] as string]: records.keys,
      [env['PERSONAL_DATA_ERASURES_TOPIC'] as string]: records.erasures,
      [env['PURCHASE_STATUS_TOPIC'] as string]: records.v1,
    };
    await transport.ensureTopics([{ topic: env['PURCHASE_STATUS_TOPIC'] as string }]);
    await transport.subscribe({ groupId: uniqueName('lgpd-reader'), topics: Object.keys(topics), fromBeginning: true, handle: async (m) => void topics[m.topic]?.push(m) });
  });
  afterAll(async () => {
    await transport.close();
    await service?.close();
    await database?.drop();
  });

  const keyRecordOf = (subjectId: string) => records.keys.find((r) => r.key === subjectId && r.value.length > 0);
  const openWithPublishedKey = (event: PurchaseStatusEventV2) => {
    const record = JSON.parse((keyRecordOf(event.student.subject_id) as IncomingMessage).value.toString()) as SubjectKeyRecordV1;
    const key = Buffer.from(transportBox.open(record.sealed_key, subjectKeyTransportContext(record.subject_id)), 'base64');
    const box = new SecretBox([{ id: record.key_id, key }]);
    return JSON.parse(box.open(event.student.sealed as string, subjectDataContext(event.student.subject_id))) as { name: string; email: string };
  };

  let purchaseId: string;
  let secondPurchaseId: string;
  let otherPurchaseId: string;
  let subjectId: string;
  let publishedKeyRecord: SubjectKeyRecordV1;

  it('stores and publishes the student only sealed, under one subject per e-mail', async () => {
    const opened = await api.open({ student }, { 'idempotency-key': uniqueName('open') });
    expect(opened.status).toBe(201);
    purchaseId = opened.body.purchase_id;
    subjectId = opened.body.student.subject_id;
    // The answer names the subject only: the platform sent the data, and the stored idempotent answer keeps none.
    expect(opened.body.student).toEqual({ subject_id: expect.stringMatching(/^sub_[0-9a-f]{32}$/) });
    for (const step of happyPath.slice(0, 3)) expect((await api.command(purchaseId, step.path, step.body)).status).toBe(200);
    // The same student (e-mail in another case) is the same subject.
    const second = await api.open({ student: { name: student.name, email: student.email.toUpperCase() } });
    secondPurchaseId = second.body.purchase_id;
    expect(second.body.student.subject_id).toBe(subjectId);
    otherPurchaseId = (await api.open({ student: other })).body.purchase_id;

    expect((await api.get(purchaseId)).body.student).toEqual({ subject_id: subjectId, ...student });
    const listed = await api.request('GET', '/purchases?partner_id=ptn_escola_azul');
    expect(listed.body.items.find((p: { purchase_id: string }) => p.purchase_id === purchaseId).student).toEqual({ subject_id: subjectId, ...student });
    expect((await api.request('POST', '/students/lookup', { email: student.email.toUpperCase() })).body).toEqual({ subject_id: subjectId });

    // Nothing in clear in any table: events, read model, idempotent answers, subjects.
    const rows = await everyRow(database.url);
    for (const text of [student.name, student.email, other.name, other.email]) expect(rows.includes(text)).toBe(false);
    expect(rows.includes('PurchaseOpened')).toBe(true);

    // Nor on the topics: v2 carries the subject id and the sealed value, which opens with the published key.
    const statuses = 3 + 1 + 1 + 1;
    await eventually(() => expect(records.v2).toHaveLength(statuses), { timeoutMs: 20_000 });
    await eventually(() => expect(records.keys.filter((r) => r.value.length > 0)).toHaveLength(2), { timeoutMs: 20_000 });
    const validator = topicRecordValidator();
    for (const record of records.v2) {
      expect(validator.recordProblems(Topics.purchaseStatusV2, record)).toEqual([]);
      for (const text of [student.name, student.email, other.email]) expect(record.value.includes(text)).toBe(false);
    }
    for (const record of records.keys) expect(validator.recordProblems(Topics.subjectKeys, record)).toEqual([]);
    const first = fromPurchaseStatusV2KafkaMessage(records.v2.find((r) => r.key === purchaseId) as IncomingMessage).data;
    expect(first.student.subject_id).toBe(subjectId);
    expect(openWithPublishedKey(first)).toEqual(student);
    publishedKeyRecord = JSON.parse((keyRecordOf(subjectId) as IncomingMessage).value.toString()) as SubjectKeyRecordV1;
    // v1 is off by default.
    expect(records.v1).toEqual([]);
  });

  it('answers problem+json with stable codes for what it cannot erase or find', async () => {
    const cases = [
      [await api.request('POST', '/students/lookup', { email: 'nobody.lgpd@example.com' }), 404, 'SUBJECT_NOT_FOUND'],
      [await api.request('POST', '/students/lookup', { email: 'not an e-mail' }), 400, 'VALIDATION_FAILED'],
      [await api.request('POST', `/students/sub_${'0'.repeat(32)}/erasure`, { requested_by: 'dpo:ana' }), 404, 'SUBJECT_NOT_FOUND'],
      [await api.request('POST', '/students/maria@example.com/erasure', { requested_by: 'dpo:ana' }), 404, 'SUBJECT_NOT_FOUND'],
      [await api.request('POST', `/students/${subjectId}/erasure`, {}), 400, 'VALIDATION_FAILED'],
      [await api.request('POST', `/students/${subjectId}/erasure`, { requested_by: 'dpo:ana', email: student.email }), 400, 'VALIDATION_FAILED'],
      [await api.request('POST', `/purchases/pur_${'f'.repeat(32)}/student/erasure`, { requested_by: 'dpo:ana' }), 404, 'PURCHASE_NOT_FOUND'],
    ] as const;
    for (const [response, status, code] of cases) {
      expect({ status: response.status, code: response.body.code, type: response.headers.get('content-type') }).toEqual({ status, code, type: expect.stringContaining('application/problem+json') });
      expect(JSON.stringify(response.body)).not.toContain('nobody.lgpd');
    }
    // Without the platform's token: 401, nothing erased.
    const anonymous = await fetch(`${service.url}/students/${subjectId}/erasure`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"requested_by":"x"}' });
    expect(anonymous.status).toBe(401);
    expect((await api.get(purchaseId)).body.student.name).toBe(student.name);
  });

  it('erases by purchase: the key is destroyed, every copy unreadable, audited, answered the same twice', async () => {
    const erased = await api.request('POST', `/purchases/${secondPurchaseId}/student/erasure`, { requested_by: 'dpo:ana' });
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({
      erasure_id: expect.stringMatching(/^era_[0-9a-f]{32}$/),
      subject_id: subjectId,
      requested_by: 'dpo:ana',
      purchases: [
        { purchase_id: [purchaseId, secondPurchaseId].sort()[0], partner_id: 'ptn_escola_azul' },
        { purchase_id: [purchaseId, secondPurchaseId].sort()[1], partner_id: 'ptn_escola_azul' },
      ],
    });
    expect(erased.body.stores).toEqual(
      expect.arrayContaining([
        { store: 'journey.events', action: expect.any(String), count: 5 },
        { store: 'journey.purchases', action: 'student redacted', count: 2 },
        { store: 'journey.idempotency_keys', action: 'stored answers deleted', count: expect.any(Number) },
      ]),
    );
    expect(erased.body.topics.map((t: { topic: string }) => t.topic)).toEqual(expect.arrayContaining([Topics.subjectKeys, Topics.personalDataErasures, Topics.purchaseStatusV2]));
    const again = await api.request('POST', `/students/${subjectId}/erasure`, { requested_by: 'dpo:someone-else' });
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: erased.body });

    // The API shows the statuses and the marker.
    const read = await api.get(purchaseId);
    expect(read.body.student).toEqual({ subject_id: subjectId, erased: true, erased_at: erased.body.erased_at });
    expect(read.body.history.map((h: { status: string }) => h.status)).toEqual(['shopping_cart_created', ...happyPath.slice(0, 3).map((s) => s.status)]);
    const listed = await api.request('GET', '/purchases?partner_id=ptn_escola_azul');
    expect(listed.body.items.find((p: { purchase_id: string }) => p.purchase_id === secondPurchaseId).student).toEqual(read.body.student);
    expect((await api.request('POST', '/students/lookup', { email: student.email })).status).toBe(404);

    // The key cannot be brought back from any table: neither the key, nor the sealed key journey stored, nor the e-mail's index.
    const rows = await everyRow(database.url);
    const key = Buffer.from(transportBox.open(publishedKeyRecord.sealed_key, subjectKeyTransportContext(subjectId)), 'base64');
    for (const text of [key.toString('base64'), key.toString('hex'), key.toString('base64url'), student.name, student.email]) expect(rows.includes(text)).toBe(false);
    const [subject] = await query<{ sealed_key: string | null; email_index: string | null; master_key_id: string | null }>(
      database.url,
      'SELECT sealed_key, email_index, master_key_id FROM data_subjects WHERE subject_id = $1',
      [subjectId],
    );
    expect(subject).toEqual({ sealed_key: null, email_index: null, master_key_id: null });
    // The audit: who, when, which purchases; no personal data.
    const audit = await query<{ requested_by: string; purchases: unknown[] }>(database.url, 'SELECT requested_by, purchases FROM personal_data_erasures WHERE subject_id = $1', [subjectId]);
    expect(audit).toEqual([{ requested_by: 'dpo:ana', purchases: erased.body.purchases }]);
    // The events are still there (immutable), sealed under a key that exists nowhere.
    const events = await query<{ count: number }>(database.url, 'SELECT count(*)::int AS count FROM events WHERE stream_id = $1 AND data::text LIKE \'%"sealed": "v1.%\'', [`purchase:${purchaseId}`]);
    expect(events).toEqual([{ count: 1 }]);

    // The topics: the key's tombstone and the erasure record, valid and with no personal data.
    await eventually(() => expect(records.keys.filter((r) => r.key === subjectId && r.value.length === 0)).toHaveLength(1), { timeoutMs: 20_000 });
    await eventually(() => expect(records.erasures).toHaveLength(1), { timeoutMs: 20_000 });
    const validator = topicRecordValidator();
    const [erasureRecord] = records.erasures as [IncomingMessage];
    expect(validator.recordProblems(Topics.personalDataErasures, erasureRecord)).toEqual([]);
    expect(validator.recordProblems(Topics.subjectKeys, records.keys.find((r) => r.key === subjectId && r.value.length === 0) as IncomingMessage)).toEqual([]);
    expect(JSON.parse(erasureRecord.value.toString()) as PersonalDataErasureV1).toEqual({ erasure_id: erased.body.erasure_id, subject_id: subjectId, purchases: erased.body.purchases, erased_at: erased.body.erased_at });

    // The purchase moves on; its new status events say the student is erased.
    const next = happyPath[3] as (typeof happyPath)[number];
    expect((await api.command(purchaseId, next.path, next.body)).status).toBe(200);
    await eventually(() => expect(records.v2.filter((r) => r.key === purchaseId)).toHaveLength(5), { timeoutMs: 20_000 });
    const latest = fromPurchaseStatusV2KafkaMessage(records.v2.filter((r) => r.key === purchaseId).at(-1) as IncomingMessage).data;
    expect(latest.student).toEqual({ subject_id: subjectId, sealed: null });

    // The other student is untouched.
    const untouched = await api.get(otherPurchaseId);
    expect(untouched.body.student).toEqual({ subject_id: expect.stringMatching(/^sub_/), ...other });
    expect((await everyRow(database.url)).includes(other.email)).toBe(false);
  });
});
