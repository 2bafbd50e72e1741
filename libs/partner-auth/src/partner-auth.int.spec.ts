import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { EVENT_TRANSPORT, KafkaTransport, PostgresTransport, type EventTransport } from '@gancho/messaging';
import { ProblemDetailsFilter } from '@gancho/service-kit';
import { createTestDatabase, eventually, kafkaBrokers, uniqueName, type TestDatabase } from '@gancho/testing';
import { APP_FILTER } from '@nestjs/core';
import type { ApiKeyRecordV1 } from '@gancho/contracts';
import { generateApiKey } from './api-key';
import { ApiKeyDirectory } from './api-key-directory';
import { PartnerAuthGuard, PartnerId } from './partner-auth.guard';
import { PartnerAuthModule } from './partner-auth.module';

@Controller('whoami')
@UseGuards(PartnerAuthGuard)
class WhoAmIController {
  @Get()
  whoami(@PartnerId() partnerId: string): { partner_id: string } {
    return { partner_id: partnerId };
  }
}

// Scenarios, on a real broker and on the PostgreSQL log, with records published as subscriptions publishes them:
// - a key published before the app starts is loaded from the topic's beginning;
// - read-your-writes: a key used the moment its publication resolved is admitted, every time (never 401);
//   an unknown key is still 401 once the table has caught up, and again 401 (from the unknown-key cache);
// - a key published later works, and stops working once its revocation is published;
// - unknown keys, malformed headers and tombstoned keys get 401 problem+json;
// - past the per-key rate limit: 429 with Retry-After;
// - a malformed record on the topic is skipped, and later records still apply;
// - a record of a newer release (a field this one does not know) makes its key unusable, until a record it reads;
// - a key with expires_at (a portal session) works until then, and is refused after with reason "expired".
const transports: [string, () => Promise<{ transport: EventTransport; close(): Promise<void> }>][] = [
  [
    'Kafka',
    async () => {
      const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'partner-auth-test', maxWaitTimeMs: 200 });
      return { transport, close: () => transport.close() };
    },
  ],
  [
    'the PostgreSQL log',
    async () => {
      const database: TestDatabase = await createTestDatabase('partner_auth');
      const transport = new PostgresTransport({ connectionString: database.url, clientId: uniqueName('partner-auth-test'), pollIntervalMs: 200 });
      return {
        transport,
        close: async () => {
          await transport.close();
          await database.drop();
        },
      };
    },
  ],
];

describe.each(transports)('PartnerAuthModule on %s', (_name, openTransport) => {
  let transport: EventTransport;
  let closeTransport: () => Promise<void>;
  const topic = uniqueName('test.api-keys');
  let app: NestExpressApplication;
  let url: string;

  const record = (keyId: string, partnerId: string, key: ReturnType<typeof generateApiKey>, revoked = false): ApiKeyRecordV1 => ({
    key_id: keyId,
    partner_id: partnerId,
    key_hash: key.keyHash,
    display_prefix: key.displayPrefix,
    revoked,
    created_at: new Date().toISOString(),
    revoked_at: revoked ? new Date().toISOString() : null,
  });
  const publish = (keyId: string, value: unknown) => transport.publish(topic, [{ key: keyId, value: value === null ? '' : JSON.stringify(value), headers: { 'content-type': 'application/json' } }]);
  const call = (key?: string) => fetch(`${url}/whoami`, key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } });

  const early = generateApiKey();

  beforeAll(async () => {
    ({ transport, close: closeTransport } = await openTransport());
    await transport.ensureTopics([{ topic, compacted: true }]);
    await publish('key_early', record('key_early', 'ptn_early', early));
    @Module({
      imports: [PartnerAuthModule.forRoot({ topic, rateLimit: { refillPerSecond: 1, capacity: 3 } })],
      controllers: [WhoAmIController],
      providers: [
        { provide: EVENT_TRANSPORT, useValue: transport },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    })
    class ProbeModule {}
    const moduleRef = await Test.createTestingModule({ imports: [ProbeModule] }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
    await closeTransport?.();
  });

  it('loads keys published before it started, and answers 401 for others', async () => {
    // No warm-up to wait for: the first request already waits for the table to reach the topic's end.
    expect(await (await call(early.key)).json()).toEqual({ partner_id: 'ptn_early' });
    const unknown = generateApiKey().key;
    for (const key of [undefined, 'nope', unknown, unknown, `${early.key}x`]) {
      const response = await call(key);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    }
  });

  it('admits a key used the moment its publication resolved, every time (read-your-writes)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const fresh = generateApiKey();
      await publish(`key_fresh_${i}`, record(`key_fresh_${i}`, 'ptn_fresh', fresh));
      statuses.push((await call(fresh.key)).status);
    }
    expect(statuses).toEqual(Array(20).fill(200));
    expect(app.get(ApiKeyDirectory).table.size).toBeGreaterThanOrEqual(21);
  });

  it('follows the topic: a new key works, its revocation and its tombstone shut it out', async () => {
    const later = generateApiKey();
    await publish('key_later', record('key_later', 'ptn_later', later));
    await eventually(async () => expect((await call(later.key)).status).toBe(200));
    await publish('key_later', record('key_later', 'ptn_later', later, true));
    await eventually(async () => expect((await call(later.key)).status).toBe(401), { timeoutMs: 5000 });

    const gone = generateApiKey();
    await publish('key_gone', record('key_gone', 'ptn_later', gone));
    await eventually(async () => expect((await call(gone.key)).status).toBe(200));
    await publish('key_gone', null);
    await eventually(async () => expect((await call(gone.key)).status).toBe(401), { timeoutMs: 5000 });
  });

  it('refuses a key whose latest record it cannot fully read (a newer release), and admits it again on one it reads', async () => {
    const key = generateApiKey();
    await publish('key_future', record('key_future', 'ptn_future', key));
    await eventually(async () => expect((await call(key.key)).status).toBe(200));
    // A newer release narrows the key with a field this one does not know: admitting it on the rest of the record would grant too much.
    await publish('key_future', { ...record('key_future', 'ptn_future', key), allowed_services: ['journey'] });
    await eventually(async () => expect((await call(key.key)).status).toBe(401));
    await publish('key_future', record('key_future', 'ptn_future', key));
    await eventually(async () => expect((await call(key.key)).status).toBe(200));
  });

  it('skips a malformed record and keeps applying later ones', async () => {
    const after = generateApiKey();
    await transport.publish(topic, [
      { key: 'key_bad', value: '{"key_id": 42}' },
      { key: 'key_junk', value: 'not json' },
    ]);
    await publish('key_after', record('key_after', 'ptn_after', after));
    await eventually(async () => expect((await call(after.key)).status).toBe(200));
  });

  it('admits an expiring key until its expires_at, then answers 401 with reason expired', async () => {
    const portal = generateApiKey();
    const expiresAt = new Date(Date.now() + 2500).toISOString();
    await publish('key_portal', { ...record('key_portal', 'ptn_portal', portal), expires_at: expiresAt });
    await eventually(async () => expect(await (await call(portal.key)).json()).toEqual({ partner_id: 'ptn_portal' }));
    // Asked until refused: the refusal comes, and never to a call answered before expires_at (a call sent just
    // before it may be judged just after it, on the service's clock).
    const refusedEarly: number[] = [];
    const refused = await eventually(async () => {
      const asked = await call(portal.key);
      const answeredAt = Date.now();
      if (asked.status === 401 && answeredAt < Date.parse(expiresAt)) refusedEarly.push(answeredAt);
      expect(asked.status).toBe(401);
      return asked;
    });
    expect(refusedEarly).toEqual([]);
    expect(await refused.json()).toMatchObject({ code: 'UNAUTHORIZED', reason: 'expired', expired_at: expiresAt, detail: expect.stringContaining('expired') });
  });

  it('limits each key with a token bucket: 429 with Retry-After past the burst', async () => {
    const busy = generateApiKey();
    await publish('key_busy', record('key_busy', 'ptn_busy', busy));
    await eventually(async () => expect((await call(busy.key)).status).toBe(200));
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 5; i++) {
      const response = await call(busy.key);
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    expect(statuses).toContain(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited?.json()).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    // Another key has its own bucket.
    expect((await call(early.key)).status).toBe(200);
  });
});
