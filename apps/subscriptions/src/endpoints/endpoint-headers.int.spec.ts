import { randomBytes, randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { Client } from 'pg';
import { endpointHeaderSecretContext, endpointSecretContext, openEndpointHeaders, type EndpointStateV1 } from '@gancho/contracts';
import { SecretBox } from '@gancho/secret-box';
import { createTestDatabase, eventually, kafkaBrokers, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import type { QueryRunner } from 'typeorm';
import { SealEndpointHeaders1765100000000 } from '../migrations/seal-endpoint-headers';
import { startSubscriptions, subscriptionsClient, testEncryptionKey, testTopics } from '../testing/subscriptions-test-app';

// Scenarios, on real PostgreSQL and Kafka: custom header values (a receiver's credentials) are sealed.
// - a new endpoint's header value is in no column of the subscriptions schema, in no byte of the endpoints
//   topic (keys, values and headers as kafkajs reads them), and not in the API: names and last four only;
// - PATCH: a header given with a value is set, null removes it, a header left out keeps its value;
// - an endpoint recorded before values were sealed (plain event, plain read-model row): the migration
//   leaves only hints in the read model, and its states go out sealed, its values kept.
describe('custom header values', () => {
  const credential = 'Bearer s3cr3t-token-value';
  const box = SecretBox.fromConfig(testEncryptionKey);
  const topics = testTopics();
  let database: TestDatabase;
  let service: TestService;
  let partner: ReturnType<ReturnType<typeof subscriptionsClient>['as']>;
  let partnerId: string;
  let consumer: Consumer;
  const records: KafkaMessage[] = [];

  /** Every record of the endpoints topic, as raw bytes: key, value and each header. */
  const rawBytes = (): Buffer =>
    Buffer.concat(records.flatMap((m) => [m.key ?? Buffer.alloc(0), m.value ?? Buffer.alloc(0), ...Object.values(m.headers ?? {}).flatMap((v) => (v === undefined ? [] : [Buffer.from(v as Buffer)]))]));
  const statesOf = (endpointId: string): EndpointStateV1[] =>
    records.filter((m) => m.key?.toString() === endpointId && m.value && m.value.length > 0).map((m) => JSON.parse((m.value as Buffer).toString()) as EndpointStateV1);

  async function sql<Row>(text: string, values: unknown[] = []): Promise<Row[]> {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('SET search_path TO subscriptions');
      return (await client.query(text, values)).rows as Row[];
    } finally {
      await client.end();
    }
  }

  /** Every row of every table of the subscriptions schema, as text. */
  async function schemaText(): Promise<string> {
    const tables = await sql<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'subscriptions' AND table_type = 'BASE TABLE'");
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['events', 'endpoints']));
    const parts = await Promise.all(tables.map((t) => sql<{ all: string }>(`SELECT coalesce(string_agg(row_to_json(r)::text, ''), '') AS all FROM "${t.table_name}" r`)));
    return parts.map((p) => p[0]?.all ?? '').join('');
  }

  beforeAll(async () => {
    database = await createTestDatabase('subscriptions_endpoint_headers');
    service = await startSubscriptions(database.url, { env: { ...topics } });
    const api = subscriptionsClient(service.url);
    const created = await api.newPartner('Escola Azul');
    partnerId = created.partnerId;
    partner = api.as(created.key);
    const kafka = new Kafka({ clientId: 'header-secrecy-reader', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    consumer = kafka.consumer({ groupId: uniqueName('test.raw-endpoints'), maxWaitTimeInMs: 200 });
    await consumer.connect();
    await eventually(() => consumer.subscribe({ topic: topics.ENDPOINTS_TOPIC as string, fromBeginning: true }));
    await consumer.run({ eachMessage: async ({ message }) => void records.push(message) });
    await eventually(async () => expect((await partner('GET', '/endpoints')).status).toBe(200));
  });
  afterAll(async () => {
    await consumer?.disconnect();
    await service?.close();
    await database?.drop();
  });

  it('are in no column of the database, no record of the topic and no API answer, and still open for delivery', async () => {
    const created = await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/hooks', event_types: ['*'], headers: { Authorization: credential, 'X-Env': 'prod' } });
    expect(created.status).toBe(201);
    expect(created.body.headers).toEqual({ Authorization: { value_last4: 'alue' }, 'X-Env': { value_last4: null } });
    const id: string = created.body.id;
    const answers = [created.body, (await partner('GET', `/endpoints/${id}`)).body, (await partner('GET', '/endpoints')).body, (await partner('GET', `/endpoints/${id}/audit`)).body];
    for (const answer of answers) expect(JSON.stringify(answer)).not.toContain('s3cr3t');

    await eventually(() => expect(statesOf(id)).toHaveLength(1));
    expect(rawBytes().includes('s3cr3t')).toBe(false);
    const [state] = statesOf(id);
    if (!state) throw new Error('no state');
    expect(state.headers).toEqual({});
    expect(openEndpointHeaders(state, (sealed, context) => box.open(sealed, context))).toEqual({ Authorization: credential, 'X-Env': 'prod' });
    // Sealed for this header of this endpoint only.
    expect(() => box.open(state.sealed_headers?.['Authorization'] ?? '', endpointHeaderSecretContext(id, 'X-Env'))).toThrow('does not open');

    const text = await schemaText();
    expect(text).toContain(id);
    expect(text).not.toContain('s3cr3t');
  });

  it('keeps header values a PATCH leaves out, sets those it gives, and removes those it gives as null', async () => {
    const { body: endpoint } = await partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/hooks', event_types: ['*'], headers: { Authorization: credential, 'X-Env': 'prod' } });
    const opened = async (version: number) => {
      await eventually(() => expect(statesOf(endpoint.id).at(-1)?.version).toBe(version));
      const latest = statesOf(endpoint.id).at(-1);
      if (!latest) throw new Error('no state');
      return openEndpointHeaders(latest, (sealed, context) => box.open(sealed, context));
    };
    const described = await partner('PATCH', `/endpoints/${endpoint.id}`, { description: 'headers untouched' });
    expect(described.body).toMatchObject({ version: 2, headers: { Authorization: { value_last4: 'alue' }, 'X-Env': { value_last4: null } } });
    expect(await opened(2)).toEqual({ Authorization: credential, 'X-Env': 'prod' });

    // The same value again changes nothing (no new version).
    expect((await partner('PATCH', `/endpoints/${endpoint.id}`, { headers: { Authorization: credential } })).body.version).toBe(2);

    const changed = await partner('PATCH', `/endpoints/${endpoint.id}`, { headers: { 'x-env': null, 'X-Tenant': 'escola-azul-0042' } });
    expect(changed.body).toMatchObject({ version: 3, headers: { Authorization: { value_last4: 'alue' }, 'X-Tenant': { value_last4: '0042' } } });
    expect(Object.keys(changed.body.headers)).toEqual(['Authorization', 'X-Tenant']);
    expect(await opened(3)).toEqual({ Authorization: credential, 'X-Tenant': 'escola-azul-0042' });

    const refused = await partner('PATCH', `/endpoints/${endpoint.id}`, { headers: { Host: 'evil', 'X-Bad': 'a\nb' } });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('VALIDATION_FAILED');
    const tooMany = Object.fromEntries(Array.from({ length: 19 }, (_, i) => [`X-H${i}`, 'v']));
    expect((await partner('PATCH', `/endpoints/${endpoint.id}`, { headers: tooMany })).status).toBe(400);
  });

  it('seals an endpoint recorded before values were sealed: the read model by migration, its states when published', async () => {
    const id = `ep_${randomBytes(16).toString('hex')}`;
    const at = new Date().toISOString();
    const settings = { url: 'http://127.0.0.1:9/legacy', destination: { type: 'webhook' }, description: 'legacy', eventTypes: ['*'], headers: { Authorization: credential }, rateLimitPerSecond: null, ordering: 'none' };
    const data = { endpointId: id, partnerId, settings, enabled: true, sealedSecret: box.seal('whsec_bGVnYWN5', endpointSecretContext(id)), occurredAt: at };
    // As the previous release recorded and projected it, in one transaction.
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('SET search_path TO subscriptions');
      await client.query('BEGIN');
      await client.query('INSERT INTO streams (stream_id, version, last_transaction_id) VALUES ($1, 1, pg_current_xact_id())', [`endpoint:${id}`]);
      await client.query(`INSERT INTO events (event_id, stream_id, stream_version, type, data, metadata) VALUES ($1, $2, 1, 'EndpointCreated', $3, '{"actor":{"type":"admin"}}')`, [
        randomUUID(),
        `endpoint:${id}`,
        JSON.stringify(data),
      ]);
      await client.query(
        `INSERT INTO endpoints (endpoint_id, partner_id, url, description, event_types, enabled, headers, ordering, version, created_at, updated_at)
         VALUES ($1, $2, 'http://127.0.0.1:9/legacy', 'legacy', '["*"]', true, $3, 'none', 1, $4, $4)`,
        [id, partnerId, JSON.stringify({ Authorization: credential, 'X-Env': 'prod' }), at],
      );
      // Its append notified the relay on commit, as every append does (else the relay finds it only at its 30 s idle poll).
      await client.query("SELECT pg_notify('gancho_events', current_schema())");
      await client.query('COMMIT');
      await new SealEndpointHeaders1765100000000().up({ query: (text: string) => client.query(text) } as unknown as QueryRunner);
    } finally {
      await client.end();
    }
    expect((await partner('GET', `/endpoints/${id}`)).body.headers).toEqual({ Authorization: { value_last4: 'alue' }, 'X-Env': { value_last4: null } });

    // The relay publishes the recorded event's state with the value sealed; a PATCH keeps the value.
    await eventually(() => expect(statesOf(id)).toHaveLength(1));
    expect((await partner('PATCH', `/endpoints/${id}`, { description: 'upgraded' })).body.headers).toEqual({ Authorization: { value_last4: 'alue' } });
    await eventually(() => expect(statesOf(id)).toHaveLength(2));
    for (const state of statesOf(id)) expect(openEndpointHeaders(state, (sealed, context) => box.open(sealed, context))).toEqual({ Authorization: credential });
    expect(rawBytes().includes('s3cr3t')).toBe(false);
    // History is not rewritten: the value stays only in the one event recorded in the clear.
    const holding = await sql<{ type: string }>("SELECT type FROM events WHERE data::text LIKE '%s3cr3t%'");
    expect(holding).toEqual([{ type: 'EndpointCreated' }]);
    expect((await sql<{ n: string }>("SELECT count(*) AS n FROM endpoints WHERE headers::text LIKE '%s3cr3t%'"))[0]?.n).toBe('0');
  });
});
