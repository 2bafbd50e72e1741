import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { Client } from 'pg';
import { endpointAuthSecretContext, type EndpointStateV1 } from '@gancho/contracts';
import { SecretBox } from '@gancho/secret-box';
import { createTestDatabase, eventually, generateTestCertificates, kafkaBrokers, uniqueName, type TestCertificates, type TestDatabase, type TestService } from '@gancho/testing';
import { startSubscriptions, subscriptionsClient, testEncryptionKey, testTopics } from '../testing/subscriptions-test-app';

// Scenarios, on real PostgreSQL and Kafka: endpoint authentication (Basic, OAuth client credentials, mTLS).
// - each is saved, answered masked (never a secret: last four of a long one, certificate facts), and in no
//   column of the schema nor byte of the endpoints topic in the clear; on the topic it is sealed under the
//   endpoint's own contexts and opens there;
// - PATCH replaces the whole auth (rotation) in one change, null removes it, left out keeps it;
// - refused as problem+json: a token URL the URL policy refuses (422 ENDPOINT_URL_NOT_ALLOWED, field
//   auth.token_url), a key that is not the certificate's, an expired certificate, mTLS over http, a custom
//   Authorization header beside Basic, an unknown type.
describe('endpoint auth', () => {
  const box = SecretBox.fromConfig(testEncryptionKey);
  const topics = testTopics();
  const password = 'basic-p4ssword-very-secret';
  const clientSecret = 'oauth-client-s3cret-value';
  let certificates: TestCertificates;
  let database: TestDatabase;
  let service: TestService;
  let partner: ReturnType<ReturnType<typeof subscriptionsClient>['as']>;
  let consumer: Consumer;
  const records: KafkaMessage[] = [];

  const latestState = (endpointId: string): EndpointStateV1 | undefined => {
    const values = records.filter((m) => m.key?.toString() === endpointId && m.value && m.value.length > 0).map((m) => JSON.parse((m.value as Buffer).toString()) as EndpointStateV1);
    return values.sort((a, b) => a.version - b.version).at(-1);
  };
  const rawTopic = (): string => records.map((m) => `${m.key?.toString() ?? ''}${m.value?.toString() ?? ''}`).join('');

  async function schemaText(): Promise<string> {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'subscriptions' AND table_type = 'BASE TABLE'");
      expect(tables.rows.map((t) => t.table_name)).toEqual(expect.arrayContaining(['events', 'endpoints', 'endpoint_auth']));
      const parts = await Promise.all(tables.rows.map((t) => client.query<{ all: string }>(`SELECT coalesce(string_agg(row_to_json(r)::text, ''), '') AS all FROM subscriptions."${t.table_name}" r`)));
      return parts.map((p) => p.rows[0]?.all ?? '').join('');
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    certificates = generateTestCertificates();
    database = await createTestDatabase('subscriptions_endpoint_auth');
    service = await startSubscriptions(database.url, { env: { ...topics } });
    const api = subscriptionsClient(service.url);
    partner = api.as((await api.newPartner('Escola Azul')).key);
    const kafka = new Kafka({ clientId: 'endpoint-auth-reader', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    consumer = kafka.consumer({ groupId: uniqueName('test.endpoint-auth'), maxWaitTimeInMs: 200 });
    await consumer.connect();
    await eventually(() => consumer.subscribe({ topic: topics.ENDPOINTS_TOPIC as string, fromBeginning: true }));
    await consumer.run({ eachMessage: async ({ message }) => void records.push(message) });
  });
  afterAll(async () => {
    await consumer?.disconnect();
    await service?.close();
    await database?.drop();
  });

  it('saves each kind, answers it masked, and publishes it sealed under the endpoint’s contexts', async () => {
    const basic = await partner('POST', '/endpoints', { url: 'https://127.0.0.1:9/hooks', event_types: ['*'], auth: { type: 'basic', username: 'gancho', password } });
    expect(basic.status).toBe(201);
    expect(basic.body.auth).toEqual({ type: 'basic', username: 'gancho', password_last4: 'cret' });

    const oauth = await partner('POST', '/endpoints', {
      url: 'https://127.0.0.1:9/hooks',
      event_types: ['*'],
      auth: { type: 'oauth2_client_credentials', token_url: 'https://127.0.0.1:8/oauth/token', client_id: 'gancho-client', client_secret: clientSecret, scope: 'webhooks' },
    });
    expect(oauth.status).toBe(201);
    expect(oauth.body.auth).toEqual({ type: 'oauth2_client_credentials', token_url: 'https://127.0.0.1:8/oauth/token', client_id: 'gancho-client', client_secret_last4: 'alue', scope: 'webhooks', audience: null });

    const mtls = await partner('POST', '/endpoints', { url: 'https://127.0.0.1:9/hooks', event_types: ['*'], auth: { type: 'mtls', certificate: certificates.client.cert, private_key: certificates.client.key } });
    expect(mtls.status).toBe(201);
    expect(mtls.body.auth).toEqual({
      type: 'mtls',
      certificate: { subject: 'CN=gancho-client', issuer: 'CN=Gancho test CA', valid_from: expect.any(String), valid_to: expect.any(String), fingerprint_sha256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/) },
    });

    for (const created of [basic, oauth, mtls]) {
      const id: string = created.body.id;
      expect((await partner('GET', `/endpoints/${id}`)).body.auth).toEqual(created.body.auth);
      const audit = (await partner('GET', `/endpoints/${id}/audit`)).body;
      expect(audit.items[0].changes.auth).toEqual(created.body.auth);
    }
    expect((await partner('GET', '/endpoints')).body.items.map((e: { auth: unknown }) => e.auth)).toEqual([basic.body.auth, oauth.body.auth, mtls.body.auth]);

    await eventually(() => expect([basic, oauth, mtls].map((e) => latestState(e.body.id)?.auth?.type)).toEqual(['basic', 'oauth2_client_credentials', 'mtls']));
    const keyBody = certificates.client.key.split('\n')[1] as string;
    for (const text of [rawTopic(), await schemaText(), JSON.stringify([basic.body, oauth.body, mtls.body])]) {
      for (const secret of [password, clientSecret, keyBody]) expect(text).not.toContain(secret);
    }
    const basicState = latestState(basic.body.id)?.auth;
    const oauthState = latestState(oauth.body.id)?.auth;
    const mtlsState = latestState(mtls.body.id)?.auth;
    if (basicState?.type !== 'basic' || oauthState?.type !== 'oauth2_client_credentials' || mtlsState?.type !== 'mtls') throw new Error('unexpected states');
    expect(box.open(basicState.password_sealed, endpointAuthSecretContext(basic.body.id, 'password'))).toBe(password);
    expect(box.open(oauthState.client_secret_sealed, endpointAuthSecretContext(oauth.body.id, 'client_secret'))).toBe(clientSecret);
    expect(box.open(mtlsState.private_key_sealed, endpointAuthSecretContext(mtls.body.id, 'private_key'))).toBe(certificates.client.key);
    // Moved onto another endpoint, a sealed value does not open.
    expect(() => box.open(basicState.password_sealed, endpointAuthSecretContext(oauth.body.id, 'password'))).toThrow();
    expect(mtlsState.certificate).toBe(certificates.client.cert.trim());
  });

  it('replaces the whole auth on PATCH in one change, keeps it when left out, removes it with null', async () => {
    const created = await partner('POST', '/endpoints', { url: 'https://127.0.0.1:9/hooks', event_types: ['*'], auth: { type: 'basic', username: 'old', password } });
    const id: string = created.body.id;
    const kept = await partner('PATCH', `/endpoints/${id}`, { description: 'renamed' });
    expect(kept.body.auth).toEqual(created.body.auth);
    const rotated = await partner('PATCH', `/endpoints/${id}`, { auth: { type: 'basic', username: 'new', password: 'a-new-password-1234' } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.auth).toEqual({ type: 'basic', username: 'new', password_last4: '1234' });
    await eventually(() => expect(latestState(id)?.version).toBe(rotated.body.version));
    const state = latestState(id)?.auth;
    expect(state?.type === 'basic' && box.open(state.password_sealed, endpointAuthSecretContext(id, 'password'))).toBe('a-new-password-1234');
    const removed = await partner('PATCH', `/endpoints/${id}`, { auth: null });
    expect(removed.body.auth).toBeNull();
    expect((await partner('GET', `/endpoints/${id}`)).body.auth).toBeNull();
    await eventually(() => expect(latestState(id)?.version).toBe(removed.body.version));
    // Removed, the auth is left out of the state: what a delivery of the previous release reads.
    expect(latestState(id)).not.toHaveProperty('auth');
  });

  it('refuses what delivery could not honour, as problem+json with a stable code', async () => {
    const create = (auth: unknown, more: Record<string, unknown> = {}) => partner('POST', '/endpoints', { url: 'https://127.0.0.1:9/hooks', event_types: ['*'], auth, ...more });
    const oauth = { type: 'oauth2_client_credentials', client_id: 'c', client_secret: 's' };

    const metadata = await create({ ...oauth, token_url: 'http://169.254.169.254/latest/meta-data' });
    expect(metadata.status).toBe(422);
    expect(metadata.headers.get('content-type')).toContain('application/problem+json');
    expect(metadata.body).toMatchObject({ code: 'ENDPOINT_URL_NOT_ALLOWED', reason: 'cloud_metadata', field: 'auth.token_url' });
    expect((await create({ ...oauth, token_url: 'ftp://tokens.example/' })).body).toMatchObject({ code: 'ENDPOINT_URL_NOT_ALLOWED', reason: 'scheme_not_allowed' });

    const otherKey = await create({ type: 'mtls', certificate: certificates.client.cert, private_key: certificates.foreignClient.key });
    expect(otherKey.status).toBe(400);
    expect(otherKey.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'auth.private_key', message: 'does not belong to the certificate' }] });
    expect(JSON.stringify(otherKey.body)).not.toContain(certificates.foreignClient.key.split('\n')[1] as string);
    expect((await create({ type: 'mtls', certificate: 'not a certificate', private_key: certificates.client.key })).body).toMatchObject({ errors: [{ path: 'auth.certificate' }] });

    const expired = await create({ type: 'mtls', certificate: certificates.expired.cert, private_key: certificates.expired.key });
    expect(expired.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'auth.certificate', message: expect.stringMatching(/^expired on /) }] });
    const overHttp = await create({ type: 'mtls', certificate: certificates.client.cert, private_key: certificates.client.key }, { url: 'http://127.0.0.1:9/hooks' });
    expect(overHttp.body.code).toBe('INVALID_COMMAND');
    expect(JSON.stringify(overHttp.body)).toContain('a client certificate is only presented over https');
    const twoAuthorizations = await create({ type: 'basic', username: 'u', password: 'p' }, { headers: { Authorization: 'Bearer x' } });
    expect(JSON.stringify(twoAuthorizations.body)).toContain('remove the custom one');
    expect((await create({ type: 'kerberos' })).status).toBe(400);
    expect((await create({ type: 'basic', username: 'a:b', password: 'p' })).status).toBe(400);
  });
});
