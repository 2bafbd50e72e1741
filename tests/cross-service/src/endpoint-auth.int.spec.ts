import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { Webhook } from 'standardwebhooks';
import { createServiceApp } from '@gancho/service-kit';
import { createTestDatabase, eventually, generateTestCertificates, requireEnv, startTestService, uniqueName, type TestCertificates, type TestDatabase, type TestService } from '@gancho/testing';
import { subscriptionsOpenApi } from '../../../apps/subscriptions/src/openapi';
import { startSubscriptionsConsumers, SubscriptionsModule } from '../../../apps/subscriptions/src/subscriptions.module';
import { adminToken, subscriptionsClient, testEncryptionKey } from '../../../apps/subscriptions/src/testing/subscriptions-test-app';
import { DeliveryModule } from '../../../apps/delivery/src/delivery.module';
import { deliveryOpenApi } from '../../../apps/delivery/src/openapi';
import { deliveryEnv, readDeliveryTopics, SubscriptionsStandIn, testTopics } from '../../../apps/delivery/src/testing/delivery-test-kit';

// Scenarios, with subscriptions and delivery in-process on real PostgreSQL and Kafka, and real local servers:
// endpoints saved through the partner API with each kind of auth reach delivery over the endpoints topic, and
// their webhooks (signed as always) arrive
// - at a receiver that demands HTTP Basic, with the saved username and password;
// - at a receiver that demands a bearer token from a local OAuth token endpoint (client credentials, scope,
//   audience): one token for several webhooks while it is valid, a new one for each webhook once tokens live
//   shorter than the refresh margin, new credentials (a rotation) used from the next webhook on, and a token
//   the receiver stops accepting replaced after its 401;
// - at an https receiver that requires a client certificate of its CA, presented by delivery;
// and a token endpoint that fails makes attempts of error class auth_token (not a 401 of the receiver), with
// nothing sent to the endpoint.
describe('endpoint auth from save to delivery', () => {
  const topics = testTopics();
  const statusEvents = new SubscriptionsStandIn(topics);
  const servers: Server[] = [];
  let certificates: TestCertificates;
  let caDir: string;
  let database: TestDatabase;
  let subscriptions: TestService;
  let delivery: TestService;
  let partner: ReturnType<ReturnType<typeof subscriptionsClient>['as']>;
  let partnerId: string;
  let apiKey: string;

  interface Received {
    headers: IncomingMessage['headers'];
    body: string;
    clientCn?: string;
  }
  /** A real server on 127.0.0.1 that records each request and answers with `answer`. */
  async function server(answer: (req: IncomingMessage, body: string) => [number, string], tls?: { key: string; cert: string; ca: string }) {
    const received: Received[] = [];
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const peer = tls ? (req.socket as TLSSocket).getPeerCertificate() : undefined;
        received.push({ headers: req.headers, body, ...(typeof peer?.subject?.CN === 'string' ? { clientCn: peer.subject.CN } : {}) });
        const [status, text] = answer(req, body);
        res.writeHead(status, { 'content-type': 'application/json' }).end(text);
      });
    };
    const created = tls ? createHttpsServer({ key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: true }, onRequest) : createServer(onRequest);
    servers.push(created);
    await new Promise<void>((resolve) => created.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(created.address() as AddressInfo).port}`;
    return { received, host, url: (p: string) => `${tls ? 'https' : 'http'}://${host}${p}` };
  }

  // The token endpoint: checks the client's Basic credentials, issues tok-1, tok-2…, each valid at the receiver.
  const clientSecrets = { current: 'client-s3cret-one' };
  const token = { lifetimeSeconds: 3600, issued: 0, accepted: new Set<string>(), failing: false };
  let tokenServer: Awaited<ReturnType<typeof server>>;
  let brokenTokenServer: Awaited<ReturnType<typeof server>>;
  let basicReceiver: Awaited<ReturnType<typeof server>>;
  let bearerReceiver: Awaited<ReturnType<typeof server>>;
  let mtlsReceiver: Awaited<ReturnType<typeof server>>;
  let guardedReceiver: Awaited<ReturnType<typeof server>>;
  const basicAuthorization = `Basic ${Buffer.from('escola:basic-p4ssword-1234').toString('base64')}`;

  beforeAll(async () => {
    certificates = generateTestCertificates();
    caDir = mkdtempSync(path.join(tmpdir(), 'endpoint-auth-ca-'));
    writeFileSync(path.join(caDir, 'ca.pem'), certificates.ca);
    tokenServer = await server((req, body) => {
      const form = new URLSearchParams(body);
      if (req.headers.authorization !== `Basic ${Buffer.from(`gancho:${clientSecrets.current}`).toString('base64')}` || form.get('grant_type') !== 'client_credentials') return [401, '{"error":"invalid_client"}'];
      token.issued += 1;
      const issued = `tok-${token.issued}`;
      token.accepted.add(issued);
      return [200, JSON.stringify({ access_token: issued, token_type: 'Bearer', expires_in: token.lifetimeSeconds })];
    });
    brokenTokenServer = await server(() => [503, '{"error":"temporarily_unavailable"}']);
    basicReceiver = await server((req) => (req.headers.authorization === basicAuthorization ? [204, ''] : [401, '']));
    bearerReceiver = await server((req) => (token.accepted.has(String(req.headers.authorization).replace(/^Bearer /, '')) ? [204, ''] : [401, '']));
    mtlsReceiver = await server(() => [204, ''], { ...certificates.valid, ca: certificates.ca });
    guardedReceiver = await server(() => [204, '']);

    database = await createTestDatabase('endpoint_auth_delivery');
    await statusEvents.createTopics();
    subscriptions = await startTestService(() => createServiceApp(SubscriptionsModule.register(), { logger: ['error'], openApi: subscriptionsOpenApi }), {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
      SUBSCRIPTIONS_ADMIN_TOKENS: adminToken,
      SECRETS_ENCRYPTION_KEY: testEncryptionKey,
      ALLOW_HTTP_ENDPOINTS: 'true',
      ALLOW_PRIVATE_NETWORK_ENDPOINTS: 'true',
      ENDPOINTS_TOPIC: topics.ENDPOINTS_TOPIC,
      API_KEYS_TOPIC: topics.API_KEYS_TOPIC,
      ENDPOINT_HEALTH_CONSUMER_GROUP: uniqueName('test.health'),
    });
    await startSubscriptionsConsumers(subscriptions.app);
    const hosts = [tokenServer, brokenTokenServer, basicReceiver, bearerReceiver, mtlsReceiver, guardedReceiver].map((s) => s.host);
    delivery = await startTestService(
      () => createServiceApp(DeliveryModule.register(), { logger: ['error'], openApi: deliveryOpenApi }),
      deliveryEnv(database.url, topics, hosts, { SECRETS_ENCRYPTION_KEY: testEncryptionKey, ENDPOINT_CA_FILE: path.join(caDir, 'ca.pem'), RETRY_SCHEDULE: '0s,1s,1s,1s' }),
    );
    const api = subscriptionsClient(subscriptions.url);
    const created = await api.newPartner('Escola Azul');
    partnerId = created.partnerId;
    apiKey = created.key;
    partner = api.as(apiKey);
    await eventually(async () => expect((await partner('GET', '/endpoints')).status).toBe(200));
  });
  afterAll(async () => {
    await delivery?.close();
    await subscriptions?.close();
    await statusEvents.close();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    rmSync(caDir, { recursive: true, force: true });
    await database?.drop();
  });

  /** Delivery routes to the endpoint with its latest state once its stats say `enabled` as asked. */
  async function deliveryHas(endpointId: string, enabled: boolean): Promise<void> {
    await eventually(async () => {
      const stats = await fetch(`${delivery.url}/endpoints/${endpointId}/stats`, { headers: { authorization: `Bearer ${apiKey}` } });
      expect({ status: stats.status, enabled: stats.status === 200 ? ((await stats.json()) as { enabled: boolean }).enabled : undefined }).toEqual({ status: 200, enabled });
    });
  }
  /** PATCHes the endpoint, and waits until delivery acts on the change (disabled, then enabled again: one key's states stay in order). */
  async function change(endpointId: string, body: Record<string, unknown>): Promise<void> {
    expect((await partner('PATCH', `/endpoints/${endpointId}`, { ...body, enabled: false })).status).toBe(200);
    await deliveryHas(endpointId, false);
    expect((await partner('PATCH', `/endpoints/${endpointId}`, { enabled: true })).status).toBe(200);
    await deliveryHas(endpointId, true);
  }
  async function endpoint(url: string, auth: Record<string, unknown>): Promise<{ id: string; secret: string }> {
    const created = await partner('POST', '/endpoints', { url, event_types: ['purchase.made_effective'], auth });
    expect(created.status).toBe(201);
    const secret: string = (await partner('GET', `/endpoints/${created.body.id}/secret`)).body.current.secret;
    await deliveryHas(created.body.id, true);
    return { id: created.body.id, secret };
  }
  const verified = (received: Received[], secret: string) =>
    received.filter((r) => {
      try {
        new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
        return true;
      } catch {
        return false;
      }
    });

  it('delivers with HTTP Basic, OAuth bearer tokens and a client certificate, each as saved', async () => {
    const basic = await endpoint(basicReceiver.url('/hooks'), { type: 'basic', username: 'escola', password: 'basic-p4ssword-1234' });
    const oauth = await endpoint(bearerReceiver.url('/hooks'), {
      type: 'oauth2_client_credentials',
      token_url: tokenServer.url('/oauth/token'),
      client_id: 'gancho',
      client_secret: clientSecrets.current,
      scope: 'webhooks',
      audience: 'https://api.escola.example',
    });
    const mtls = await endpoint(mtlsReceiver.url('/hooks'), { type: 'mtls', certificate: certificates.client.cert, private_key: certificates.client.key });

    await statusEvents.publishStatus(partnerId, 'made_effective');
    await statusEvents.publishStatus(partnerId, 'made_effective');
    await eventually(() => {
      expect(verified(basicReceiver.received, basic.secret)).toHaveLength(2);
      expect(verified(bearerReceiver.received, oauth.secret)).toHaveLength(2);
      expect(verified(mtlsReceiver.received, mtls.secret)).toHaveLength(2);
    });
    expect(basicReceiver.received.map((r) => r.headers.authorization)).toEqual([basicAuthorization, basicAuthorization]);
    // One token for both webhooks: it is valid for an hour.
    expect(bearerReceiver.received.map((r) => r.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1']);
    expect(token.issued).toBe(1);
    expect(Object.fromEntries(new URLSearchParams(tokenServer.received[0]?.body))).toEqual({ grant_type: 'client_credentials', scope: 'webhooks', audience: 'https://api.escola.example' });
    expect(mtlsReceiver.received.map((r) => r.clientCn)).toEqual(['gancho-client', 'gancho-client']);
    expect(mtlsReceiver.received.every((r) => r.headers.authorization === undefined)).toBe(true);

    // Rotation: new client credentials replace the old in one change; the next webhook uses a token of the new ones.
    clientSecrets.current = 'client-s3cret-two';
    token.lifetimeSeconds = 20; // shorter than the refresh margin (30 s): each token serves one webhook, then a new one is fetched
    await change(oauth.id, {
      auth: { type: 'oauth2_client_credentials', token_url: tokenServer.url('/oauth/token'), client_id: 'gancho', client_secret: clientSecrets.current, scope: 'webhooks', audience: 'https://api.escola.example' },
    });
    await statusEvents.publishStatus(partnerId, 'made_effective');
    await eventually(() => expect(verified(bearerReceiver.received, oauth.secret)).toHaveLength(3));
    await statusEvents.publishStatus(partnerId, 'made_effective');
    await eventually(() => expect(verified(bearerReceiver.received, oauth.secret)).toHaveLength(4));
    expect(bearerReceiver.received.slice(2).map((r) => r.headers.authorization)).toEqual(['Bearer tok-2', 'Bearer tok-3']);

    // A token the receiver stops accepting: its 401 drops it, and the retry fetches a new one.
    token.lifetimeSeconds = 3600;
    await statusEvents.publishStatus(partnerId, 'made_effective');
    await eventually(() => expect(bearerReceiver.received).toHaveLength(5));
    token.accepted.clear();
    await statusEvents.publishStatus(partnerId, 'made_effective');
    await eventually(() => expect(bearerReceiver.received.at(-1)?.headers.authorization).toBe('Bearer tok-5'));
    expect(bearerReceiver.received.slice(4).map((r) => r.headers.authorization)).toEqual(['Bearer tok-4', 'Bearer tok-4', 'Bearer tok-5']);
  });

  it('records a failing token endpoint as auth_token, and sends nothing to the endpoint', async () => {
    const reader = await readDeliveryTopics(statusEvents, topics);
    try {
      const broken = await endpoint(guardedReceiver.url('/hooks'), { type: 'oauth2_client_credentials', token_url: brokenTokenServer.url('/oauth/token'), client_id: 'gancho', client_secret: 'whatever-secret' });
      await statusEvents.publishStatus(partnerId, 'made_effective');
      await eventually(() => {
        const attempts = reader.attempts.map((m) => JSON.parse(m.value?.toString() ?? '{}') as { endpoint_id: string; error_class: string | null; status_code: number | null; outcome: string });
        expect(attempts.filter((a) => a.endpoint_id === broken.id).slice(0, 2)).toEqual([
          expect.objectContaining({ error_class: 'auth_token', status_code: null, outcome: 'scheduled' }),
          expect.objectContaining({ error_class: 'auth_token', status_code: null, outcome: 'scheduled' }),
        ]);
      });
      expect(guardedReceiver.received).toHaveLength(0);
      const messages = await fetch(`${delivery.url}/messages?endpoint_id=${broken.id}`, { headers: { authorization: `Bearer ${apiKey}` } });
      const page = (await messages.json()) as { items: { message_id: string }[] };
      const detail = await fetch(`${delivery.url}/messages/${page.items[0]?.message_id}`, { headers: { authorization: `Bearer ${apiKey}` } });
      const attempt = ((await detail.json()) as { attempts: { error_class: string; error_message: string }[] }).attempts[0];
      expect(attempt).toMatchObject({ error_class: 'auth_token', error_message: 'The token endpoint answered 503 (temporarily_unavailable).' });
    } finally {
      await reader.stop();
    }
  });
});
