import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { EVENT_TRANSPORT, KafkaTransport } from '@gancho/messaging';
import { ProblemDetailsFilter } from '@gancho/service-kit';
import { eventually, kafkaBrokers, uniqueName } from '@gancho/testing';
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

// Scenarios, on the real broker, with records published as subscriptions publishes them:
// - a key published before the app starts is loaded from the topic's beginning;
// - a key published later works, and stops working once its revocation is published;
// - unknown keys, malformed headers and tombstoned keys get 401 problem+json;
// - past the per-key rate limit: 429 with Retry-After;
// - a malformed record on the topic is skipped, and later records still apply;
// - a key with expires_at (a portal session) works until then, and is refused after with reason "expired".
describe('PartnerAuthModule on a real broker', () => {
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'partner-auth-test', maxWaitTimeMs: 200 });
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
  const publish = (keyId: string, value: unknown) =>
    transport.publish(topic, [{ key: keyId, value: value === null ? '' : JSON.stringify(value), headers: { 'content-type': 'application/json' } }]);
  const call = (key?: string) => fetch(`${url}/whoami`, key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } });

  const early = generateApiKey();

  beforeAll(async () => {
    await transport.ensureTopics([{ topic, compacted: true }]);
    await publish('key_early', record('key_early', 'ptn_early', early));
    @Module({
      imports: [PartnerAuthModule.forRoot({ topic, rateLimit: { ratePerSecond: 1, burst: 3 }, warmup: { quietMs: 300, maxMs: 5000 } })],
      controllers: [WhoAmIController],
      providers: [{ provide: EVENT_TRANSPORT, useValue: transport }, { provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    })
    class ProbeModule {}
    const moduleRef = await Test.createTestingModule({ imports: [ProbeModule] }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
    await transport.close();
  });

  it('loads keys published before it started, and answers 401 for others', async () => {
    await eventually(async () => expect(await (await call(early.key)).json()).toEqual({ partner_id: 'ptn_early' }));
    await eventually(() => expect(app.get(ApiKeyDirectory).isCaughtUp()).toBe(true));
    for (const key of [undefined, 'nope', generateApiKey().key, `${early.key}x`]) {
      const response = await call(key);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    }
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

  it('skips a malformed record and keeps applying later ones', async () => {
    const after = generateApiKey();
    await transport.publish(topic, [{ key: 'key_bad', value: '{"key_id": 42}' }, { key: 'key_junk', value: 'not json' }]);
    await publish('key_after', record('key_after', 'ptn_after', after));
    await eventually(async () => expect((await call(after.key)).status).toBe(200));
  });

  it('admits an expiring key until its expires_at, then answers 401 with reason expired', async () => {
    const portal = generateApiKey();
    const expiresAt = new Date(Date.now() + 2500).toISOString();
    await publish('key_portal', { ...record('key_portal', 'ptn_portal', portal), expires_at: expiresAt });
    await eventually(async () => expect(await (await call(portal.key)).json()).toEqual({ partner_id: 'ptn_portal' }));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(expiresAt) - Date.now() + 50)));
    const refused = await call(portal.key);
    expect(refused.status).toBe(401);
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
