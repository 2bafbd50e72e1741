import { KafkaTransport, type IncomingMessage } from '@gancho/messaging';
import { createServiceApp } from '@gancho/service-kit';
import { kafkaBrokers, requireEnv, startTestService, uniqueName, type TestService } from '@gancho/testing';
import type { ResolveHost } from '@gancho/url-safety';
import { subscriptionsOpenApi } from '../openapi';
import type { Clock } from '../platform/clock';
import { startSubscriptionsConsumers, SubscriptionsModule } from '../subscriptions.module';

export const adminToken = 'subscriptions-admin-token-for-tests-0001';
/** A fixed test key (base64 of 32 bytes), so a test can open what the service sealed. */
export const testEncryptionKey = 'test:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=';

/** Topics and consumer group of one test file; share them between the instances of that file. */
export function testTopics(): Record<string, string> {
  return {
    ENDPOINTS_TOPIC: uniqueName('test.subscriptions-endpoints'),
    API_KEYS_TOPIC: uniqueName('test.subscriptions-api-keys'),
    OPERATIONAL_EVENTS_TOPIC: uniqueName('test.subscriptions-operational-events'),
    ENDPOINT_HEALTH_CONSUMER_GROUP: uniqueName('test.subscriptions-health'),
  };
}

/**
 * The subscriptions service in-process, consumers started, on its own database
 * and topics; on Kafka, or with `transport: 'postgres'` on the PostgreSQL log in its database.
 */
export async function startSubscriptions(databaseUrl: string, options: { env?: Record<string, string>; clock?: Clock; resolveHost?: ResolveHost; transport?: 'kafka' | 'postgres' } = {}): Promise<TestService> {
  const onPostgresLog = options.transport === 'postgres';
  const brokers = requireEnv('KAFKA_BROKERS');
  // The service takes the PostgreSQL log when KAFKA_BROKERS is unset, so it is unset while the service reads its configuration.
  if (onPostgresLog) delete process.env.KAFKA_BROKERS;
  const service = await startTestService(
    () =>
      createServiceApp(SubscriptionsModule.register({ ...(options.clock ? { clock: options.clock } : {}), ...(options.resolveHost ? { resolveHost: options.resolveHost } : {}) }), {
        logger: ['error'],
        openApi: subscriptionsOpenApi,
      }),
    {
      DATABASE_URL: databaseUrl,
      ...(onPostgresLog ? {} : { KAFKA_BROKERS: brokers }),
      SUBSCRIPTIONS_ADMIN_TOKENS: adminToken,
      SECRETS_ENCRYPTION_KEY: testEncryptionKey,
      ALLOW_HTTP_ENDPOINTS: 'true',
      ALLOW_PRIVATE_NETWORK_ENDPOINTS: 'true',
      PARTNER_API_RATE_LIMIT_PER_SECOND: '1000',
      PARTNER_API_RATE_LIMIT_BURST: '1000',
      ...testTopics(),
      ...options.env,
    },
  ).finally(() => {
    process.env.KAFKA_BROKERS = brokers;
  });
  await startSubscriptionsConsumers(service.app);
  return service;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** A small client for the subscriptions API, as an operator (`admin`) or as a partner with its key. */
export function subscriptionsClient(baseUrl: string) {
  const request = async (bearer: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
  return {
    request,
    admin: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(adminToken, method, path, body, headers),
    as: (key: string) => (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(key, method, path, body, headers),
    /** A new partner with one API key. */
    async newPartner(name: string): Promise<{ partnerId: string; key: string; keyId: string }> {
      const partner = await request(adminToken, 'POST', '/admin/partners', { name });
      const key = await request(adminToken, 'POST', `/admin/partners/${partner.body.id}/api-keys`);
      return { partnerId: partner.body.id, key: key.body.key, keyId: key.body.id };
    },
  };
}

/** Everything published to some topics from their beginning, for assertions. */
export async function recordTopics(topics: string[]): Promise<{ messages: IncomingMessage[]; stop(): Promise<void> }> {
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'subscriptions-test-reader', maxWaitTimeMs: 200 });
  await transport.ensureTopics(topics.map((topic) => ({ topic, compacted: true })));
  const messages: IncomingMessage[] = [];
  await transport.subscribe({ groupId: uniqueName('test.reader'), topics, fromBeginning: true, handle: async (m) => void messages.push(m) });
  return { messages, stop: () => transport.close() };
}
