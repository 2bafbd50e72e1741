// Partners and endpoints for the scenarios, two ways: through the public
// admin and partner APIs of subscriptions (the e2e scenario, as a school
// would), or as endpoint states published straight onto the compacted
// endpoints topic, sealed with the platform's key (the delivery-only
// scenarios: a routing table of 10,000 endpoints in seconds).
import { randomBytes } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { endpointSecretContext, type EndpointOrdering, type EndpointStateV1 } from '@gancho/contracts';
import { SecretBox } from '@gancho/secret-box';
import { generateSecret } from '@gancho/webhook-signing';
import type { ReceiverFleet } from './receivers.mts';
import type { RouteMode } from './receiver-protocol.mts';

export interface BenchEndpoint {
  endpointId: string;
  partnerId: string;
  /** The receiver path naming this endpoint. */
  key: string;
  secret: string;
  ordering: EndpointOrdering;
}

export interface BenchPartner {
  partnerId: string;
  apiKey?: string;
  endpoints: BenchEndpoint[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of the APIs, read field by field
type Json = any;

async function call(url: string, token: string, method = 'GET', body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Retries while a fresh instance is still loading API keys (503) or the key is not known yet (401). */
async function callUntil(url: string, token: string, ok: number[], method = 'GET', body?: unknown, timeoutMs = 30_000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await call(url, token, method, body);
    if (ok.includes(result.status)) return result.body;
    if (Date.now() > deadline) throw new Error(`${method} ${url}: HTTP ${result.status} ${JSON.stringify(result.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Partners, keys and `purchase.*` endpoints through subscriptions' APIs; waits until delivery routes to each. */
export async function seedThroughApis(options: {
  subscriptionsUrl: string;
  deliveryUrl: string;
  adminToken: string;
  fleet: ReceiverFleet;
  partners: number;
  endpointsPerPartner: number;
  label: string;
}): Promise<BenchPartner[]> {
  const partners: BenchPartner[] = [];
  for (let p = 0; p < options.partners; p++) {
    const partner = await callUntil(`${options.subscriptionsUrl}/admin/partners`, options.adminToken, [201], 'POST', { name: `Bench ${options.label} ${p}` });
    const key = (await callUntil(`${options.subscriptionsUrl}/admin/partners/${partner.id}/api-keys`, options.adminToken, [201], 'POST')).key as string;
    const endpoints: BenchEndpoint[] = [];
    for (let e = 0; e < options.endpointsPerPartner; e++) {
      const routeKey = `${options.label}-${p}-${e}`;
      const created = await callUntil(`${options.subscriptionsUrl}/endpoints`, key, [201], 'POST', { url: options.fleet.target(routeKey).url, event_types: ['purchase.*'] });
      const secret = (await callUntil(`${options.subscriptionsUrl}/endpoints/${created.id}/secret`, key, [200])).current.secret as string;
      endpoints.push({ endpointId: created.id, partnerId: partner.id, key: routeKey, secret, ordering: 'none' });
    }
    partners.push({ partnerId: partner.id, apiKey: key, endpoints });
  }
  await options.fleet.setRoutes(partners.flatMap((p) => p.endpoints.map((e) => ({ key: e.key, secrets: [e.secret] }))));
  // Delivery knows an endpoint once its partner API stops answering 404 for it.
  for (const partner of partners) {
    for (const endpoint of partner.endpoints) await callUntil(`${options.deliveryUrl}/endpoints/${endpoint.endpointId}/stats`, partner.apiKey as string, [200]);
  }
  return partners;
}

/**
 * Endpoint states as subscriptions publishes them, straight onto the
 * endpoints topic. All on partition 0, so an endpoint published last is read
 * by delivery after every one before it (see `waitUntilRouted`).
 */
export class EndpointPublisher {
  private readonly box: SecretBox;

  private readonly producer: Producer;
  private readonly topic: string;

  constructor(producer: Producer, topic: string, encryptionKey: string) {
    this.producer = producer;
    this.topic = topic;
    this.box = SecretBox.fromConfig(encryptionKey);
  }

  partners(label: string, count: number, endpointsPerPartner: number, ordering: EndpointOrdering = 'none'): BenchPartner[] {
    const run = randomBytes(3).toString('hex');
    return Array.from({ length: count }, (_, p) => {
      const partnerId = `ptn_bench_${label}_${run}_${p}`;
      return {
        partnerId,
        endpoints: Array.from({ length: endpointsPerPartner }, (_, e) => ({
          endpointId: `ep_bench_${label}_${run}_${p}_${e}`,
          partnerId,
          key: `${label}-${run}-${p}-${e}`,
          secret: generateSecret(randomBytes),
          ordering,
        })),
      };
    });
  }

  async publish(partners: BenchPartner[], urlOf: (key: string) => string): Promise<void> {
    const now = new Date().toISOString();
    const validFrom = new Date(Date.now() - 60_000).toISOString();
    const messages = partners.flatMap((p) =>
      p.endpoints.map((e) => {
        const state: EndpointStateV1 = {
          endpoint_id: e.endpointId,
          partner_id: e.partnerId,
          url: urlOf(e.key),
          description: 'bench endpoint',
          event_types: ['purchase.*'],
          enabled: true,
          disabled_reason: null,
          disabled_detail: null,
          headers: {},
          rate_limit_per_second: null,
          ordering: e.ordering,
          signing_secrets: [{ sealed: this.box.seal(e.secret, endpointSecretContext(e.endpointId)), valid_from: validFrom, valid_until: null }],
          version: 1,
          created_at: now,
          updated_at: now,
        };
        return { key: e.endpointId, value: JSON.stringify(state), partition: 0 };
      }),
    );
    for (let i = 0; i < messages.length; i += 1000) await this.producer.send({ topic: this.topic, messages: messages.slice(i, i + 1000) });
  }
}

/** Routes for the receivers: every endpoint healthy unless a mode is given. */
export function routesOf(partners: BenchPartner[], modeOf: (endpoint: BenchEndpoint, index: number) => RouteMode = () => 'ok') {
  return partners.flatMap((p) => p.endpoints).map((e, i) => ({ key: e.key, secrets: [e.secret], mode: modeOf(e, i) }));
}
