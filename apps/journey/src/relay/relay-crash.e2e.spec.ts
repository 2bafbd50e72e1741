import path from 'node:path';
import { Client } from 'pg';
import type { PurchaseStatusEventV2 } from '@gancho/contracts';
import { KafkaTransport, type IncomingMessage } from '@gancho/messaging';
import { createTestDatabase, eventually, kafkaBrokers, startServiceProcess, uniqueName, type ServiceProcess, type TestDatabase } from '@gancho/testing';
import { happyPath, journeyClient, journeyTestEnv } from '../testing/journey-test-app';

const mainFile = path.join(__dirname, '..', '..', 'dist', 'main.js');

// With real processes: one journey process takes commands (relay off), another
// runs the relay. The relay process is SIGKILLed while status changes keep
// coming, then started again. Every stored event must reach Kafka at least
// once, and per purchase the first arrivals must be in sequence order.
describe('relay crash (SIGKILL) under a stream of status changes', () => {
  let database: TestDatabase;
  let apiProcess: ServiceProcess;
  let relayProcess: ServiceProcess;
  const topic = uniqueName('test.journey-status');
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'relay-crash-test', maxWaitTimeMs: 200 });
  const received: IncomingMessage[] = [];
  let stopConsumer: () => Promise<void>;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase('journey_relay_crash');
    env = {
      ...journeyTestEnv(),
      DATABASE_URL: database.url,
      PURCHASE_STATUS_V2_TOPIC: topic,
      PURCHASE_STATUS_PARTITIONS: '3',
    };
    apiProcess = await startServiceProcess(mainFile, { ...env, OUTBOX_RELAY_ENABLED: 'false' });
    relayProcess = await startServiceProcess(mainFile, { ...env, OUTBOX_RELAY_ENABLED: 'true' });
    const subscription = await transport.subscribe({ groupId: uniqueName('crash-reader'), topics: [topic], fromBeginning: true, handle: async (m) => void received.push(m) });
    stopConsumer = () => subscription.stop();
  });
  afterAll(async () => {
    await stopConsumer?.();
    await transport.close();
    await Promise.all([apiProcess?.kill(), relayProcess?.kill()]);
    await database?.drop();
  });

  it('publishes every event at least once and in per-purchase order across the crash', async () => {
    const api = journeyClient(apiProcess.url);
    const purchases = 24;
    const drive = async () => {
      const id = (await api.open()).body.purchase_id as string;
      for (const step of happyPath) expect((await api.command(id, step.path, step.body)).status).toBe(200);
      return id;
    };
    const ids: string[] = [];
    let drivingDone = false;
    const driving = (async () => {
      for (let i = 0; i < purchases; i += 4) ids.push(...(await Promise.all([drive(), drive(), drive(), drive()])));
      drivingDone = true;
    })();

    const storedEvents = async (): Promise<number> => {
      const counter = new Client({ connectionString: database.url });
      await counter.connect();
      try {
        return Number((await counter.query<{ n: string }>("SELECT count(*) AS n FROM journey.events WHERE stream_id LIKE 'purchase:%'")).rows[0]!.n);
      } finally {
        await counter.end();
      }
    };
    await eventually(() => expect(received.length).toBeGreaterThanOrEqual(40), { timeoutMs: 60_000, intervalMs: 5 });
    const seenAtKill = received.length;
    await relayProcess.kill();
    // The API goes on storing while no relay runs: the restarted one has a backlog to publish.
    const storedAtKill = await storedEvents();
    await eventually(async () => expect(drivingDone || (await storedEvents()) > storedAtKill).toBe(true), { timeoutMs: 60_000, intervalMs: 20 });
    relayProcess = await startServiceProcess(mainFile, { ...env, OUTBOX_RELAY_ENABLED: 'true' });
    await driving;

    const client = new Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query<{ event_id: string }>("SELECT event_id FROM journey.events WHERE stream_id LIKE 'purchase:%'");
    await client.end();
    const stored = new Set(rows.map((r) => r.event_id));
    expect(stored.size).toBe(purchases * (happyPath.length + 1));
    await eventually(() => expect(new Set(received.map((m) => m.headers.ce_id)).size).toBe(stored.size), { timeoutMs: 30_000 });

    expect(received.every((m) => stored.has(m.headers.ce_id as string))).toBe(true);
    for (const id of ids) {
      const firstArrivals: number[] = [];
      for (const m of received.filter((m) => m.key === id)) {
        const { sequence } = JSON.parse(m.value.toString()) as PurchaseStatusEventV2;
        if (!firstArrivals.includes(sequence)) firstArrivals.push(sequence);
      }
      expect(firstArrivals).toEqual(Array.from({ length: happyPath.length + 1 }, (_, i) => i + 1));
    }
    const duplicates = received.length - stored.size;
    process.stdout.write(`relay crash: ${stored.size} events, ${seenAtKill} received before the kill, ${duplicates} duplicates after restart\n`);
    expect(seenAtKill).toBeLessThan(stored.size);
  });
});
