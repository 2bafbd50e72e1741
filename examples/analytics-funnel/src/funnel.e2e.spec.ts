import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { phaseOf, type PurchaseStatus } from '@gancho/contracts';
import { createTestDatabase, eventually, requireEnv, uniqueName, type TestDatabase } from '@gancho/testing';
// The platform's processes, as the version-skew and platform e2e tests run them (scripts of tools/, not libraries).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { freePort } from '../../../tools/infra/ports.mts';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { journeySteps } from '../../../tools/platform/journey-steps.mts';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { newPlatformSecrets, startPlatform, type Platform, type PlatformSecrets } from '../../../tools/platform/platform.mts';
import { cloudEventOf, startFunnelConsumer } from './consumer.mts';
import { FunnelCounter, type FunnelReport } from './funnel.mts';

// The example consumer against real records: journey, subscriptions and
// delivery run as processes (today's build) on the real Kafka, with topics of
// this run. Two schools' purchases move through their statuses; delivery
// POSTs to two endpoints of one school, one of which answers 500 once per
// webhook. The example (`node src/main.mts`, as its README runs it) prints the
// funnel per partner and phase and the attempt success rate per endpoint;
// a record read twice is counted once; replay from a time counts only what
// came after it.

async function startReceiver(failFirstOfEach: boolean): Promise<{ url: string; host: string; close(): Promise<void> }> {
  const seen = new Set<string>();
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const id = String(request.headers['webhook-id']);
      const fail = failFirstOfEach && !seen.has(id);
      seen.add(id);
      response.writeHead(fail ? 500 : 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `http://${host}/webhooks`, host, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(base: string, route: string, token: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** phase → purchases, for purchases that went through these statuses. */
function expectedFunnel(...purchases: PurchaseStatus[][]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const statuses of purchases) for (const phase of new Set(statuses.map((s) => phaseOf(s)))) counts[phase] = (counts[phase] ?? 0) + 1;
  return counts;
}

/** Runs the example as its README says, until it prints a report that passes `check`; then SIGTERM. */
async function runExample(env: Record<string, string>, check: (report: FunnelReport) => void): Promise<{ report: FunnelReport; exitCode: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', path.join(__dirname, 'main.mts')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const report = await eventually(
      () => {
        const lines = stdout.trim().split('\n').filter(Boolean);
        expect(lines.length).toBeGreaterThan(0);
        const last = JSON.parse(lines.at(-1)!) as FunnelReport;
        check(last);
        return last;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    child.kill('SIGTERM');
    return { report, exitCode: await exited, stderr };
  } finally {
    child.kill('SIGKILL');
  }
}

describe('examples/analytics-funnel against the real broker', () => {
  let database: TestDatabase;
  let platform: Platform;
  let secrets: PlatformSecrets;
  let receivers: Awaited<ReturnType<typeof startReceiver>>[];
  const topics = {
    PURCHASE_STATUS_TOPIC: uniqueName('funnel.status'),
    PURCHASE_STATUS_V2_TOPIC: uniqueName('funnel.status-v2'),
    ENDPOINTS_TOPIC: uniqueName('funnel.endpoints'),
    API_KEYS_TOPIC: uniqueName('funnel.api-keys'),
    DELIVERY_ATTEMPTS_TOPIC: uniqueName('funnel.attempts'),
    ENDPOINT_HEALTH_TOPIC: uniqueName('funnel.health'),
    STATUS_CONSUMER_GROUP: uniqueName('funnel.delivery'),
    ENDPOINT_HEALTH_CONSUMER_GROUP: uniqueName('funnel.subscriptions-health'),
  };
  const brokers = () => requireEnv('KAFKA_BROKERS');

  beforeAll(async () => {
    database = await createTestDatabase('analytics_funnel');
    receivers = [await startReceiver(false), await startReceiver(true)];
    secrets = newPlatformSecrets();
    platform = await startPlatform({
      databaseUrl: database.url,
      kafkaBrokers: brokers(),
      ports: { journey: await freePort(), subscriptions: await freePort(), delivery: await freePort() },
      secrets,
      allowedEndpointHosts: receivers.map((r) => r.host),
      env: { ...topics, ENDPOINTS_WARMUP_MS: '1000', DISPATCH_POLL_MS: '100', RETRY_SCHEDULE: '0s,1s' },
    });
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
    await Promise.all(receivers?.map((r) => r.close()) ?? []);
    await database?.drop();
  });

  async function partner(name: string): Promise<{ id: string; key: string }> {
    const created = (await call(platform.urls.subscriptions, '/admin/partners', secrets.adminToken, 'POST', { name })).body;
    const key = (await call(platform.urls.subscriptions, `/admin/partners/${created.id}/api-keys`, secrets.adminToken, 'POST')).body.key as string;
    return { id: created.id as string, key };
  }

  async function endpoint(key: string, url: string, eventTypes: string[]): Promise<string> {
    const created = await eventually(async () => {
      const result = await call(platform.urls.subscriptions, '/endpoints', key, 'POST', { url, event_types: eventTypes });
      expect(result.status).toBe(201);
      return result.body.id as string;
    });
    await eventually(async () => expect((await call(platform.urls.delivery, `/endpoints/${created}/stats`, key)).status).toBe(200), { timeoutMs: 30_000 });
    return created;
  }

  /** Opens a purchase and takes it `steps` steps along; returns the statuses it went through. */
  async function purchase(partnerId: string, steps: number): Promise<PurchaseStatus[]> {
    const opened = await call(platform.urls.journey, '/purchases', secrets.platformToken, 'POST', {
      partner_id: partnerId,
      course: { id: 'crs_funnel', name: 'Ciência de Dados', price_cents: 450000, currency: 'BRL' },
      student: { name: 'Rafael Dias', email: 'rafael.dias@example.com' },
      student_logged_in: false,
    });
    expect(opened.status).toBe(201);
    for (const step of journeySteps.slice(0, steps)) {
      expect((await call(platform.urls.journey, `/purchases/${opened.body.purchase_id}/${step.path}`, secrets.platformToken, 'POST', step.body)).status).toBe(200);
    }
    return ['not_logged', ...journeySteps.slice(0, steps).map((s) => s.status as PurchaseStatus)];
  }

  it('counts the funnel per partner and phase and the attempt success rate per endpoint, from real records, once each', async () => {
    const azul = await partner('Escola Azul');
    const verde = await partner('Escola Verde');
    const everything = await endpoint(azul.key, receivers[0]!.url, ['purchase.*']);
    const flaky = await endpoint(azul.key, receivers[1]!.url, ['purchase.made_effective']);
    const won = await purchase(azul.id, journeySteps.length);
    const abandoned = await purchase(azul.id, 2);
    const elsewhere = await purchase(verde.id, 6);

    const expected = {
      funnel: { [azul.id]: expectedFunnel(won, abandoned), [verde.id]: expectedFunnel(elsewhere) },
      // The same student (one e-mail, one pseudonymous subject) bought from both schools.
      students: { [azul.id]: 1, [verde.id]: 1 },
      attempts: {
        // Every status of both purchases, delivered at the first attempt.
        [everything]: { partner_id: azul.id, attempts: won.length + abandoned.length, succeeded: won.length + abandoned.length, success_rate: 1, by_outcome: { succeeded: won.length + abandoned.length } },
        // made_effective once: a 500 (retried a second later), then a 204.
        [flaky]: { partner_id: azul.id, attempts: 2, succeeded: 1, success_rate: 0.5, by_outcome: { scheduled: 1, succeeded: 1 } },
      },
    };
    // Once delivery has published every attempt: one of them published again (same CloudEvents id, as a relay may
    // after a crash), and a record that is not a CloudEvent at all.
    const attemptCount = Object.values(expected.attempts).reduce((n, e) => n + e.attempts, 0);
    const kafka = new Kafka({ clientId: uniqueName('funnel-test'), brokers: brokers().split(','), logLevel: logLevel.NOTHING });
    const reader = kafka.consumer({ groupId: uniqueName('funnel-test.copy') });
    const attempts: KafkaMessage[] = [];
    await reader.connect();
    await reader.subscribe({ topic: topics.DELIVERY_ATTEMPTS_TOPIC, fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void attempts.push(message) });
    await eventually(() => expect(attempts).toHaveLength(attemptCount), { timeoutMs: 60_000, intervalMs: 200 });
    await reader.disconnect();
    const copied = attempts[0]!;
    expect(cloudEventOf(copied).type).toBe('delivery.attempt');
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.DELIVERY_ATTEMPTS_TOPIC,
      messages: [
        { key: copied.key, value: copied.value, headers: copied.headers! },
        { key: 'x', value: 'not a cloudevent' },
      ],
    });
    await producer.disconnect();

    const run = await runExample(
      {
        KAFKA_BROKERS: brokers(),
        FUNNEL_GROUP_ID: uniqueName('analytics.test.purchase-funnel'),
        FUNNEL_FROM: 'earliest',
        PURCHASE_STATUS_V2_TOPIC: topics.PURCHASE_STATUS_V2_TOPIC,
        DELIVERY_ATTEMPTS_TOPIC: topics.DELIVERY_ATTEMPTS_TOPIC,
        REPORT_EVERY_MS: '200',
      },
      (report) => expect(report).toEqual({ ...expected, duplicates: 1, ignored: 0 }),
    );
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain(`skipped a record of ${topics.DELIVERY_ATTEMPTS_TOPIC}`);
    // Nothing about the student is kept or printed.
    expect(JSON.stringify(run.report)).not.toMatch(/Rafael|rafael\.dias/);
  });

  it('replays from a time: a new group moved to that time counts only the records from then on', async () => {
    const laranja = await partner('Escola Laranja');
    await purchase(laranja.id, 1);
    // The log's own timestamps decide; a time after the first purchase's last record, taken from the broker.
    const kafka = new Kafka({ clientId: uniqueName('funnel-test'), brokers: brokers().split(','), logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: uniqueName('funnel-test.time') });
    let lastTimestamp = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: topics.PURCHASE_STATUS_V2_TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const event = cloudEventOf(message);
        if ((event.data as { partner_id: string }).partner_id === laranja.id) lastTimestamp = Math.max(lastTimestamp, Number(message.timestamp));
      },
    });
    await eventually(() => expect(lastTimestamp).toBeGreaterThan(0));
    await consumer.disconnect();
    await eventually(() => expect(Date.now()).toBeGreaterThan(lastTimestamp + 5), { intervalMs: 5 });
    const later = await purchase(laranja.id, 3);

    const counter = new FunnelCounter();
    const replay = await startFunnelConsumer(
      {
        brokers: brokers().split(','),
        groupId: uniqueName('analytics.test.replay'),
        topics: { purchaseStatus: topics.PURCHASE_STATUS_V2_TOPIC, deliveryAttempts: topics.DELIVERY_ATTEMPTS_TOPIC },
        from: new Date(lastTimestamp + 1),
      },
      counter,
    );
    try {
      await eventually(() => expect(counter.report().funnel).toEqual({ [laranja.id]: expectedFunnel(later) }), { timeoutMs: 30_000, intervalMs: 200 });
      // Nothing of the earlier schools either (their records are older than the time).
      expect(Object.keys(counter.report().funnel)).toEqual([laranja.id]);
    } finally {
      await replay.stop();
    }
  });
});
