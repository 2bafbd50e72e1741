import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import pg from 'pg';
import { createTestDatabase, eventually, requireEnv, uniqueName, type TestDatabase } from '@gancho/testing';
import { freePort } from '../infra/ports.mts';
import { newPlatformSecrets, startPlatform, type Platform, type PlatformSecrets } from './platform.mts';

// Defect 6 of issue 19, across the real processes on Kafka: a partner gives its receiver's credential as a
// custom header. The value is in no table of the subscriptions schema, in no byte of the endpoints topic (read
// raw with kafkajs) and in no API answer (name and last four only), while delivery still sends it to the
// receiver — and still does after a PATCH that leaves the headers out.
describe('a custom header holding a receiver credential, across the platform', () => {
  const credential = 'Bearer s3cr3t-token-value';
  const topics = {
    PURCHASE_STATUS_TOPIC: uniqueName('e2e.status'),
    ENDPOINTS_TOPIC: uniqueName('e2e.endpoints'),
    API_KEYS_TOPIC: uniqueName('e2e.api-keys'),
    DELIVERY_ATTEMPTS_TOPIC: uniqueName('e2e.attempts'),
    ENDPOINT_HEALTH_TOPIC: uniqueName('e2e.health'),
    STATUS_CONSUMER_GROUP: uniqueName('e2e.delivery'),
    ENDPOINT_HEALTH_CONSUMER_GROUP: uniqueName('e2e.subscriptions-health'),
  };
  let database: TestDatabase;
  let platform: Platform;
  let secrets: PlatformSecrets;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  let receiverUrl: string;
  const records: KafkaMessage[] = [];
  const kafka = new Kafka({ clientId: 'e2e-header-secrecy', brokers: requireEnv('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('e2e.raw-endpoints'), maxWaitTimeInMs: 200 });

  beforeAll(async () => {
    database = await createTestDatabase('platform_header_secrecy');
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
    secrets = newPlatformSecrets();
    platform = await startPlatform({
      databaseUrl: database.url,
      kafkaBrokers: requireEnv('KAFKA_BROKERS'),
      ports: { journey: await freePort(), subscriptions: await freePort(), delivery: await freePort() },
      secrets,
      allowedEndpointHosts: [new URL(receiverUrl).host],
      env: { ...topics, ENDPOINTS_WARMUP_MS: '1000', DISPATCH_POLL_MS: '100' },
    });
    await consumer.connect();
    await eventually(() => consumer.subscribe({ topic: topics.ENDPOINTS_TOPIC, fromBeginning: true }));
    await consumer.run({ eachMessage: async ({ message }) => void records.push(message) });
  });
  afterAll(async () => {
    await consumer.disconnect();
    await platform?.stop();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await database?.drop();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function call(base: string, path: string, token: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any; text: string }> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
  }

  it('is sealed at rest and on the topic, shown by its last four characters, and sent to the receiver', async () => {
    const { subscriptions, journey, delivery } = platform.urls;
    const partner = (await call(subscriptions, '/admin/partners', secrets.adminToken, 'POST', { name: 'Escola Segura' })).body;
    const key = (await call(subscriptions, `/admin/partners/${partner.id}/api-keys`, secrets.adminToken, 'POST')).body.key as string;
    const created = await eventually(async () => {
      const answer = await call(subscriptions, '/endpoints', key, 'POST', { url: receiverUrl, event_types: ['purchase.*'], headers: { Authorization: credential } });
      expect(answer.status).toBe(201);
      return answer;
    });
    const endpointId = created.body.id as string;
    expect(created.body.headers).toEqual({ Authorization: { value_last4: 'alue' } });
    // A PATCH that leaves the headers out keeps them.
    expect((await call(subscriptions, `/endpoints/${endpointId}`, key, 'PATCH', { description: 'credenciais guardadas' })).status).toBe(200);
    const answers = [
      created.text,
      (await call(subscriptions, `/endpoints/${endpointId}`, key)).text,
      (await call(subscriptions, '/endpoints', key)).text,
      (await call(subscriptions, `/endpoints/${endpointId}/audit`, key)).text,
    ];
    for (const answer of answers) expect(answer).not.toContain('s3cr3t');

    await eventually(async () => expect((await call(delivery, `/endpoints/${endpointId}/stats`, key)).status).toBe(200), { timeoutMs: 20_000 });
    const opened = await call(journey, '/purchases', secrets.platformToken, 'POST', {
      partner_id: partner.id,
      course: { id: 'crs_sec', name: 'Segurança', price_cents: 100000, currency: 'BRL' },
      student: { name: 'Rui Alves', email: 'rui@example.com' },
      student_logged_in: false,
    });
    expect(opened.status).toBe(201);
    await eventually(() => expect(received.filter((r) => r.body.includes(opened.body.purchase_id as string)).length).toBeGreaterThanOrEqual(1), { timeoutMs: 30_000, intervalMs: 200 });
    for (const request of received) expect(request.headers['authorization']).toBe(credential);

    // Both states (create, PATCH) are on the topic, and no byte of any record holds the value.
    await eventually(() => expect(records.filter((m) => m.key?.toString() === endpointId).length).toBeGreaterThanOrEqual(2));
    const bytes = Buffer.concat(records.flatMap((m) => [m.key ?? Buffer.alloc(0), m.value ?? Buffer.alloc(0), ...Object.values(m.headers ?? {}).map((v) => Buffer.from(String(v)))]));
    expect(bytes.includes('s3cr3t')).toBe(false);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const tables = (await client.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'subscriptions' AND table_type = 'BASE TABLE'")).rows;
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['events', 'endpoints']));
      for (const { name } of tables) {
        const [row] = (await client.query<{ text: string }>(`SELECT coalesce(string_agg(row_to_json(r)::text, ''), '') AS text FROM subscriptions."${name}" r`)).rows;
        expect({ table: name, holds: row?.text.includes('s3cr3t') }).toEqual({ table: name, holds: false });
      }
    } finally {
      await client.end();
    }
  });
});
