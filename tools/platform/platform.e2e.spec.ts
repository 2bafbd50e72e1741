import pg from 'pg';
import { createTestDatabase, eventually, requireEnv, uniqueName, webhookSchemaValidator, type TestDatabase } from '@gancho/testing';
import { Webhook } from 'standardwebhooks';
import { freePort } from '../infra/ports.mts';
import { startDemoReceiver, type DemoReceiver } from './demo-receiver.mts';
import { journeySteps } from './journey-steps.mts';
import { newPlatformSecrets, startPlatform, type Platform, type PlatformSecrets } from './platform.mts';

/** A receiver that also keeps every raw request, to verify signatures against each secret separately. */
async function receiver(): Promise<DemoReceiver & { raw: { body: string; headers: Record<string, string> }[] }> {
  const raw: { body: string; headers: Record<string, string> }[] = [];
  const base = await startDemoReceiver({ port: 0 });
  // The demo receiver verifies against its secrets; the test keeps the bytes too.
  const { createServer: createHttpServer } = await import('node:http');
  const server = createHttpServer((request, response) => {
    let body = '';
    request.on('data', (c: Buffer) => (body += c.toString()));
    request.on('end', async () => {
      raw.push({ body, headers: request.headers as Record<string, string> });
      const forwarded = await fetch(base.url, { method: 'POST', headers: request.headers as Record<string, string>, body });
      response.writeHead(forwarded.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    ...base,
    url: `http://127.0.0.1:${port}/webhooks`,
    raw,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await base.close();
    },
  };
}

// The three services as separate OS processes, wired by configuration only,
// once on the PostgreSQL event log and once on Kafka, against real receivers:
// a purchase walks the shortest path to made_effective; an endpoint on `purchase.*` gets every status
// (signatures verified, payloads valid against their schemas), an endpoint on
// `purchase.made_effective` gets exactly that one, a disabled endpoint gets
// nothing, and a rotated secret verifies with both the old and the new secret.
describe.each([
  ['the PostgreSQL event log', false],
  ['Kafka', true],
])('the platform as separate processes on %s', (_transport, useKafka) => {
  let database: TestDatabase;
  let platform: Platform;
  let secrets: PlatformSecrets;
  const receivers: Awaited<ReturnType<typeof receiver>>[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(useKafka ? 'platform_kafka' : 'platform_pg');
    for (let i = 0; i < 4; i++) receivers.push(await receiver());
    secrets = newPlatformSecrets();
    const topics: Record<string, string> = useKafka
      ? {
          PURCHASE_STATUS_TOPIC: uniqueName('e2e.status'),
          ENDPOINTS_TOPIC: uniqueName('e2e.endpoints'),
          API_KEYS_TOPIC: uniqueName('e2e.api-keys'),
          DELIVERY_ATTEMPTS_TOPIC: uniqueName('e2e.attempts'),
          ENDPOINT_HEALTH_TOPIC: uniqueName('e2e.health'),
          STATUS_CONSUMER_GROUP: uniqueName('e2e.delivery'),
          ENDPOINT_HEALTH_CONSUMER_GROUP: uniqueName('e2e.subscriptions-health'),
        }
      : {};
    platform = await startPlatform({
      databaseUrl: database.url,
      ...(useKafka ? { kafkaBrokers: requireEnv('KAFKA_BROKERS') } : {}),
      ports: { journey: await freePort(), subscriptions: await freePort(), delivery: await freePort() },
      secrets,
      allowedEndpointHosts: receivers.map((r) => new URL(r.url).host),
      env: { ...topics, ENDPOINTS_WARMUP_MS: '1000', DISPATCH_POLL_MS: '100' },
    });
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all(receivers.map((r) => r.close()));
    await database?.drop();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function call(base: string, path: string, token: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  it('delivers a purchase journey to exactly the endpoints that asked for it, verifiably', async () => {
    const { subscriptions, journey, delivery } = platform.urls;
    const partner = (await call(subscriptions, '/admin/partners', secrets.adminToken, 'POST', { name: 'Escola E2E' })).body;
    const key = (await call(subscriptions, `/admin/partners/${partner.id}/api-keys`, secrets.adminToken, 'POST')).body.key as string;
    const create = async (url: string, eventTypes: string[]) => {
      const result = await eventually(async () => {
        const created = await call(subscriptions, '/endpoints', key, 'POST', { url, event_types: eventTypes });
        expect(created.status).toBe(201);
        return created.body;
      });
      return result.id as string;
    };
    const [all, onlyEffective, disabled, rotated] = receivers as [(typeof receivers)[0], (typeof receivers)[0], (typeof receivers)[0], (typeof receivers)[0]];
    const epAll = await create(all.url, ['purchase.*']);
    const epEffective = await create(onlyEffective.url, ['purchase.made_effective']);
    const epDisabled = await create(disabled.url, ['*']);
    const epRotated = await create(rotated.url, ['purchase.*']);
    expect((await call(subscriptions, `/endpoints/${epDisabled}`, key, 'PATCH', { enabled: false })).status).toBe(200);
    const oldSecret = (await call(subscriptions, `/endpoints/${epRotated}/secret`, key)).body.current.secret as string;
    expect((await call(subscriptions, `/endpoints/${epRotated}/secret/rotate`, key, 'POST')).status).toBeLessThan(300);
    const afterRotation = (await call(subscriptions, `/endpoints/${epRotated}/secret`, key)).body;
    const newSecret = afterRotation.current.secret as string;
    expect(afterRotation.previous.secret).toBe(oldSecret);
    all.setSecrets([(await call(subscriptions, `/endpoints/${epAll}/secret`, key)).body.current.secret]);
    onlyEffective.setSecrets([(await call(subscriptions, `/endpoints/${epEffective}/secret`, key)).body.current.secret]);
    disabled.setSecrets([(await call(subscriptions, `/endpoints/${epDisabled}/secret`, key)).body.current.secret]);
    rotated.setSecrets([oldSecret, newSecret]);

    // Delivery knows an endpoint once its partner API stops answering 404 for it.
    for (const endpointId of [epAll, epEffective, epRotated]) {
      await eventually(async () => expect((await call(delivery, `/endpoints/${endpointId}/stats`, key)).status).toBe(200), { timeoutMs: 20_000 });
    }
    await eventually(async () => expect((await call(delivery, `/endpoints/${epDisabled}/stats`, key)).body.enabled).toBe(false), { timeoutMs: 20_000 });

    const opened = await call(journey, '/purchases', secrets.platformToken, 'POST', {
      partner_id: partner.id,
      course: { id: 'crs_e2e', name: 'Engenharia de Dados', price_cents: 990000, currency: 'BRL' },
      student: { name: 'Bia Lima', email: 'bia@example.com' },
      student_logged_in: false,
    });
    expect(opened.status).toBe(201);
    const purchaseId = opened.body.purchase_id as string;
    for (const step of journeySteps) {
      const moved = await call(journey, `/purchases/${purchaseId}/${step.path}`, secrets.platformToken, 'POST', step.body);
      expect({ step: step.path, status: moved.status, to: moved.body?.status }).toEqual({ step: step.path, status: 200, to: step.status });
    }
    const statuses = ['not_logged', ...journeySteps.map((s) => s.status)];
    const ofPurchase = (r: DemoReceiver) => r.received.filter((w) => w.purchaseId === purchaseId);

    await eventually(
      () => {
        expect(new Set(ofPurchase(all).map((w) => w.status))).toEqual(new Set(statuses));
        expect(new Set(ofPurchase(rotated).map((w) => w.status))).toEqual(new Set(statuses));
        expect(ofPurchase(onlyEffective).map((w) => w.status)).toEqual(['made_effective']);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // Nothing more is on its way: every event was routed (the last one reached the catch-all endpoint), and delivery's log has
    // one settled message, sent once, for the made_effective endpoint and none for the disabled one.
    await eventually(
      async () => {
        const ofEndpoint = async (endpointId: string) =>
          ((await call(delivery, `/messages?endpoint_id=${endpointId}`, key)).body.items as { purchase_id: string; status: string; attempt_count: number }[]).filter((m) => m.purchase_id === purchaseId);
        expect((await ofEndpoint(epEffective)).map((m) => ({ status: m.status, attempts: m.attempt_count }))).toEqual([{ status: 'succeeded', attempts: 1 }]);
        expect(await ofEndpoint(epDisabled)).toEqual([]);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(ofPurchase(onlyEffective)).toHaveLength(1);
    expect(disabled.received).toHaveLength(0);
    for (const r of [all, onlyEffective, rotated]) expect(ofPurchase(r).every((w) => w.verified)).toBe(true);

    const problemsOf = webhookSchemaValidator();
    for (const request of all.raw) expect({ body: request.body, problems: problemsOf(JSON.parse(request.body)) }).toEqual({ body: request.body, problems: [] });
    // During the overlap each secret alone verifies every request to the rotated endpoint.
    for (const request of rotated.raw) {
      for (const secret of [oldSecret, newSecret]) expect(() => new Webhook(secret).verify(request.body, request.headers)).not.toThrow();
    }

    // The status events went over the transport asked for: the PostgreSQL event log holds them only when it was chosen.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const [table] = (await client.query<{ name: string | null }>("SELECT to_regclass('gancho_transport.messages')::text AS name")).rows;
      const count = async (where: string) => (table?.name ? Number((await client.query(`SELECT count(*) AS n FROM gancho_transport.messages ${where}`)).rows[0].n) : 0);
      if (useKafka) expect(await count('')).toBe(0);
      else {
        expect(await count("WHERE topic = 'journey.purchase-status.v2'")).toBeGreaterThanOrEqual(statuses.length);
        // npm start's journey does not publish the plaintext v1 topic: its delivery reads v2.
        expect(await count("WHERE topic = 'journey.purchase-status.v1'")).toBe(0);
      }
    } finally {
      await client.end();
    }
  });
});
