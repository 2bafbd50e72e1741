import type { PurchaseStatus } from '@gancho/contracts';
import { commandSlug, shortestPath } from '@gancho/purchase-domain';
import { createServiceApp } from '@gancho/service-kit';
import { requireEnv, startTestService, uniqueName, type TestService } from '@gancho/testing';
import { JourneyModule } from '../journey.module';
import { journeyOpenApi } from '../openapi';
import type { Clock } from '../platform/clock';

export const platformToken = 'journey-platform-token-for-tests-0001';
/** Test keys (never used elsewhere): the master keys of subject keys, the e-mail index pepper, the transport key shared with delivery. */
export const testMasterKeys = `m1:${Buffer.alloc(32, 11).toString('base64')}`;
export const testIndexKey = Buffer.alloc(32, 12).toString('base64');
export const testTransportKeys = `t1:${Buffer.alloc(32, 13).toString('base64')}`;

/** The environment journey needs besides its database, with unique topics: what a test starts it with. */
export function journeyTestEnv(): Record<string, string> {
  return {
    KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
    JOURNEY_PLATFORM_TOKENS: platformToken,
    PERSONAL_DATA_MASTER_KEYS: testMasterKeys,
    PERSONAL_DATA_INDEX_KEY: testIndexKey,
    SECRETS_ENCRYPTION_KEY: testTransportKeys,
    PURCHASE_STATUS_TOPIC: uniqueName('test.journey-status'),
    PURCHASE_STATUS_V2_TOPIC: uniqueName('test.journey-status-v2'),
    SUBJECT_KEYS_TOPIC: uniqueName('test.journey-subject-keys'),
    PERSONAL_DATA_ERASURES_TOPIC: uniqueName('test.journey-erasures'),
    TIMEOUT_SCAN_INTERVAL_MS: '0',
    PERSONAL_DATA_RETENTION_SCAN_INTERVAL_MS: '0',
  };
}

/** A settable clock for tests that exercise time-based transitions. */
export class TestClock implements Clock {
  constructor(private current: Date) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** The journey service in-process, on its own database and status topic. */
export function startJourney(databaseUrl: string, options: { clock?: Clock; env?: Record<string, string> } = {}): Promise<TestService> {
  return startTestService(() => createServiceApp(JourneyModule.register(options.clock ? { clock: options.clock } : {}), { logger: ['error'], openApi: journeyOpenApi }), {
    DATABASE_URL: databaseUrl,
    ...journeyTestEnv(),
    ...options.env,
  });
}

/** A small client for the journey API as the checkout platform calls it. */
export function journeyClient(baseUrl: string) {
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${platformToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as any };
  };
  return {
    request,
    open: (overrides: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
      request(
        'POST',
        '/purchases',
        {
          partner_id: 'ptn_escola_azul',
          course: { id: 'crs_data_science', name: 'Ciência de Dados', price_cents: 1_234_500, currency: 'BRL' },
          student: { name: 'Ana Souza', email: 'ana.souza@example.com' },
          student_logged_in: true,
          ...overrides,
        },
        headers,
      ),
    command: (purchaseId: string, path: string, body?: unknown, headers: Record<string, string> = {}) => request('POST', `/purchases/${purchaseId}/${path}`, body, headers),
    get: (purchaseId: string) => request('GET', `/purchases/${purchaseId}`),
  };
}

/** From a new logged-in purchase (shopping_cart_created) to made_effective: the domain's shortest path, one command per transition. */
export const happyPath: { path: string; body?: unknown; status: string }[] = walkTo('shopping_cart_created', 'made_effective');

function walkTo(from: PurchaseStatus, to: PurchaseStatus): { path: string; body?: unknown; status: string }[] {
  const path = shortestPath(from, to);
  if (!path) throw new Error(`the transition table has no path from ${from} to ${to}`);
  return path.map((step) => ({ path: commandSlug(step.command), ...(step.decision ? { body: { decision: step.decision } } : {}), status: step.to }));
}
