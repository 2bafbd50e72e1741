import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  cloudEventSources,
  cloudEventTypes,
  endpointHeaderSecretContext,
  legacyEventHeaders,
  endpointSecretContext,
  eventTypeOf,
  examplePayload,
  toCloudEventsKafkaMessage,
  toCloudEventsRecord,
  Topics,
  type ApiKeyRecordV1,
  type EndpointStateV1,
  type PurchaseStatus,
  type PurchaseStatusEventV1,
} from '@gancho/contracts';
import { KafkaTransport, type EventTransport, type IncomingMessage, type OutgoingMessage } from '@gancho/messaging';
import { generateApiKey } from '@gancho/partner-auth';
import { SecretBox } from '@gancho/secret-box';
import { contractTopicSpec, createServiceApp } from '@gancho/service-kit';
import { eventually, kafkaBrokers, requireEnv, startTestService, uniqueName, type TestService } from '@gancho/testing';
import { generateSecret } from '@gancho/webhook-signing';
import { DeliveryModule } from '../delivery.module';
import { EndpointDirectory } from '../routing/endpoint-directory';
import { deliveryOpenApi } from '../openapi';

export const encryptionKeys = `test1:${Buffer.alloc(32, 7).toString('base64')}`;
export const secretBox = SecretBox.fromConfig(encryptionKeys);

/** One run's topics, so test files never see each other's events. */
export function testTopics() {
  return {
    PURCHASE_STATUS_TOPIC: uniqueName('test.status'),
    ENDPOINTS_TOPIC: uniqueName('test.endpoints'),
    API_KEYS_TOPIC: uniqueName('test.api-keys'),
    DELIVERY_ATTEMPTS_TOPIC: uniqueName('test.attempts'),
    ENDPOINT_HEALTH_TOPIC: uniqueName('test.endpoint-health'),
    STATUS_CONSUMER_GROUP: uniqueName('test.delivery'),
    PURCHASE_STATUS_V2_TOPIC: uniqueName('test.status-v2'),
    SUBJECT_KEYS_TOPIC: uniqueName('test.subject-keys'),
    SUBJECT_KEYS_CONSUMER_GROUP: uniqueName('test.delivery-keys'),
    PERSONAL_DATA_ERASURES_TOPIC: uniqueName('test.erasures'),
    ERASURE_CONSUMER_GROUP: uniqueName('test.delivery-erasures'),
    OPERATIONAL_EVENTS_TOPIC: uniqueName('test.operational-events'),
    OPERATIONAL_CONSUMER_GROUP: uniqueName('test.delivery-operational'),
  };
}
export type TestTopics = ReturnType<typeof testTopics>;

export function deliveryEnv(databaseUrl: string, topics: TestTopics, receiverHosts: string[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
    SECRETS_ENCRYPTION_KEY: encryptionKeys,
    ALLOW_HTTP_ENDPOINTS: 'true',
    ALLOWED_ENDPOINT_HOSTS: receiverHosts.join(','),
    ENDPOINTS_WARMUP_MS: '1500',
    DISPATCH_POLL_MS: '100',
    ...topics,
    ...extra,
  };
}

export function startDelivery(databaseUrl: string, topics: TestTopics, receiverHosts: string[], extra: Record<string, string> = {}): Promise<TestService> {
  return startTestService(() => createServiceApp(DeliveryModule.register(), { logger: ['error', 'warn'], openApi: deliveryOpenApi }), deliveryEnv(databaseUrl, topics, receiverHosts, extra));
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export type ReceiverAnswer = { status: number; headers?: Record<string, string>; body?: string };

/** A partner's endpoint on loopback: verifies each signature with the public standardwebhooks package, and answers as told. */
export class TestReceiver {
  readonly received: ReceivedWebhook[] = [];
  readonly verificationFailures: string[] = [];
  /** How to answer; may take its time (a Promise), or never answer ('hang'). */
  respond: (webhook: ReceivedWebhook) => ReceiverAnswer | 'hang' | Promise<ReceiverAnswer> = () => ({ status: 204 });
  private server: Server | undefined;
  secrets: string[] = [];

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', async () => {
        const webhook = { headers: request.headers, body, at: Date.now() };
        const verified = this.secrets.some((secret) => {
          try {
            new Webhook(secret).verify(body, request.headers as Record<string, string>);
            return true;
          } catch {
            return false;
          }
        });
        if (!verified) this.verificationFailures.push(String(request.headers['webhook-id']));
        this.received.push(webhook);
        const answer = await this.respond(webhook);
        if (answer === 'hang') return;
        response.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '');
      });
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get host(): string {
    return `127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  url(path = '/webhooks'): string {
    return `http://${this.host}${path}`;
  }

  ids(): string[] {
    return this.received.map((w) => String(w.headers['webhook-id']));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** Publishes what subscriptions would: endpoint states and API keys, on the run's own topics. */
/** Which release of subscriptions a stand-in record imitates. */
export type SubscriptionsProducer = 'current' | 'v0.1.0';

export class SubscriptionsStandIn {
  readonly transport: EventTransport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'delivery-test', maxWaitTimeMs: 200 });
  private readonly versions = new Map<string, number>();
  private readonly keys = new Map<string, Promise<string>>();

  constructor(private readonly topics: TestTopics) {}

  /**
   * A record as subscriptions publishes it (`current`: CloudEvents binary
   * mode with v0.1.0's headers beside), or as release v0.1.0 did (only
   * `gancho-event-id` and `gancho-event-type`).
   */
  private record(key: string, data: object | null, type: string, legacyType: string, producer: SubscriptionsProducer): OutgoingMessage {
    const id = randomUUID();
    if (producer === 'v0.1.0') {
      return { key, value: data === null ? '' : JSON.stringify(data), headers: { 'content-type': 'application/json', [legacyEventHeaders.id]: id, [legacyEventHeaders.type]: legacyType } };
    }
    return toCloudEventsRecord({ id, type, source: cloudEventSources.subscriptions, time: new Date(), subject: key, data, legacyType });
  }

  async createTopics(): Promise<void> {
    await this.transport.ensureTopics([
      contractTopicSpec(Topics.endpoints, { topic: this.topics.ENDPOINTS_TOPIC }),
      contractTopicSpec(Topics.apiKeys, { topic: this.topics.API_KEYS_TOPIC }),
      contractTopicSpec(Topics.purchaseStatus, { topic: this.topics.PURCHASE_STATUS_TOPIC, partitions: 3 }),
      contractTopicSpec(Topics.deliveryAttempts, { topic: this.topics.DELIVERY_ATTEMPTS_TOPIC }),
      contractTopicSpec(Topics.endpointHealth, { topic: this.topics.ENDPOINT_HEALTH_TOPIC }),
      contractTopicSpec(Topics.purchaseStatusV2, { topic: this.topics.PURCHASE_STATUS_V2_TOPIC, partitions: 3 }),
      contractTopicSpec(Topics.subjectKeys, { topic: this.topics.SUBJECT_KEYS_TOPIC }),
      contractTopicSpec(Topics.personalDataErasures, { topic: this.topics.PERSONAL_DATA_ERASURES_TOPIC }),
      contractTopicSpec(Topics.operationalEvents, { topic: this.topics.OPERATIONAL_EVENTS_TOPIC }),
    ]);
  }

  async issueApiKey(partnerId: string, producer: SubscriptionsProducer = 'current'): Promise<string> {
    const { key, keyHash, displayPrefix } = generateApiKey();
    const record: ApiKeyRecordV1 = {
      key_id: `key_${randomBytes(6).toString('hex')}`,
      partner_id: partnerId,
      key_hash: keyHash,
      display_prefix: displayPrefix,
      revoked: false,
      created_at: new Date().toISOString(),
      revoked_at: null,
    };
    await this.transport.publish(this.topics.API_KEYS_TOPIC, [this.record(record.key_id, record, cloudEventTypes.apiKey, 'ApiKeyIssued', producer)]);
    return key;
  }

  /** Publishes an endpoint; returns its id and plain secrets (current last). */
  async putEndpoint(options: {
    partnerId: string;
    url: string;
    eventTypes?: string[];
    enabled?: boolean;
    endpointId?: string;
    secrets?: string[];
    headers?: Record<string, string>;
    /** `sealed` (the default) as subscriptions publishes them now; `plain` as it did before header values were sealed. */
    headersShape?: 'sealed' | 'plain';
    rateLimitPerSecond?: number | null;
    ordering?: 'none' | 'per_purchase';
    includePersonalData?: boolean;
    producer?: SubscriptionsProducer;
    /** Fields as a newer release of subscriptions might publish them (a destination type or a field this release does not know). */
    future?: Record<string, unknown>;
  }): Promise<{ endpointId: string; secrets: string[] }> {
    const endpointId = options.endpointId ?? `ep_${randomBytes(8).toString('hex')}`;
    const secrets = options.secrets ?? [generateSecret(randomBytes)];
    const version = (this.versions.get(endpointId) ?? 0) + 1;
    this.versions.set(endpointId, version);
    const now = new Date().toISOString();
    const state: EndpointStateV1 = {
      endpoint_id: endpointId,
      partner_id: options.partnerId,
      url: options.url,
      description: 'test endpoint',
      event_types: options.eventTypes ?? ['*'],
      enabled: options.enabled ?? true,
      disabled_reason: options.enabled === false ? 'by_partner' : null,
      disabled_detail: null,
      ...(options.headersShape === 'plain'
        ? { headers: options.headers ?? {} }
        : {
            headers: {},
            sealed_headers: Object.fromEntries(Object.entries(options.headers ?? {}).map(([name, value]) => [name, secretBox.seal(value, endpointHeaderSecretContext(endpointId, name))])),
          }),
      rate_limit_per_second: options.rateLimitPerSecond ?? null,
      ordering: options.ordering ?? 'none',
      ...(options.includePersonalData !== undefined ? { include_personal_data: options.includePersonalData } : {}),
      signing_secrets: secrets.map((secret, i) => ({
        sealed: secretBox.seal(secret, endpointSecretContext(endpointId)),
        valid_from: new Date(Date.now() - 60_000).toISOString(),
        valid_until: i < secrets.length - 1 ? new Date(Date.now() + 3600_000).toISOString() : null,
      })),
      version,
      created_at: now,
      updated_at: now,
    };
    const change = version === 1 ? 'EndpointCreated' : 'EndpointUpdated';
    await this.transport.publish(this.topics.ENDPOINTS_TOPIC, [this.record(endpointId, { ...state, ...options.future }, cloudEventTypes.endpointState, change, options.producer ?? 'current')]);
    return { endpointId, secrets };
  }

  /**
   * Waits until the delivery service at `serviceUrl` routes to these endpoints
   * of the partner: its partner API knows them (as it does once its routing
   * table has read them), with a key issued for the purpose.
   */
  async routedBy(serviceUrl: string, partnerId: string, endpointIds: string[], { timeoutMs = 30_000 } = {}): Promise<void> {
    let key = this.keys.get(partnerId);
    if (!key) this.keys.set(partnerId, (key = this.issueApiKey(partnerId)));
    const authorization = `Bearer ${await key}`;
    await eventually(
      async () => {
        for (const id of endpointIds) expect({ id, status: (await fetch(`${serviceUrl}/endpoints/${id}/stats`, { headers: { authorization } })).status }).toEqual({ id, status: 200 });
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  async deleteEndpoint(endpointId: string): Promise<void> {
    await this.transport.publish(this.topics.ENDPOINTS_TOPIC, [this.record(endpointId, null, cloudEventTypes.endpointState, 'EndpointDeleted', 'current')]);
  }

  /** Publishes a status event as the journey relay does; returns its event id. */
  async publishStatus(partnerId: string, status: PurchaseStatus, overrides: Partial<PurchaseStatusEventV1> = {}, eventId: string = randomUUID()): Promise<{ eventId: string; data: PurchaseStatusEventV1 }> {
    const type = eventTypeOf(status);
    const data: PurchaseStatusEventV1 = { ...examplePayload(type).data, partner_id: partnerId, ...overrides };
    await this.transport.publish(this.topics.PURCHASE_STATUS_TOPIC, [toCloudEventsKafkaMessage({ eventId, type, time: data.occurred_at, purchaseId: data.purchase_id, data })]);
    return { eventId, data };
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

/**
 * Waits until an in-process delivery service routes by this version of an
 * endpoint (or a later one): for a changed endpoint, which the partner API
 * (see `routedBy`) already knew in its earlier state.
 */
export async function routesVersion(service: TestService, endpointId: string, version: number): Promise<void> {
  const directory = service.app.get(EndpointDirectory);
  await eventually(() => expect(directory.get(endpointId)?.state.version ?? 0).toBeGreaterThanOrEqual(version), { timeoutMs: 30_000, intervalMs: 20 });
}

/** The purchase status sequence in a received webhook's body. */
export const sequenceOf = (webhook: ReceivedWebhook): number => (JSON.parse(webhook.body) as { data: { sequence: number } }).data.sequence;
/** The purchase id in a received webhook's body. */
export const purchaseOf = (webhook: ReceivedWebhook): string => (JSON.parse(webhook.body) as { data: { purchase_id: string } }).data.purchase_id;
/** A valid purchase id numbered n. */
export const purchaseId = (n: number): string => `pur_${n.toString(16).padStart(32, '0')}`;

/** Reads what delivery publishes (attempts, endpoint-health reports) from the beginning, as analytics and subscriptions would. */
export async function readDeliveryTopics(subscriptions: SubscriptionsStandIn, topics: TestTopics): Promise<{ attempts: IncomingMessage[]; healthReports: IncomingMessage[]; stop: () => Promise<void> }> {
  const attempts: IncomingMessage[] = [];
  const healthReports: IncomingMessage[] = [];
  const readers = await Promise.all([
    subscriptions.transport.subscribe({ groupId: uniqueName('attempts-reader'), topics: [topics.DELIVERY_ATTEMPTS_TOPIC], fromBeginning: true, handle: async (m) => void attempts.push(m) }),
    subscriptions.transport.subscribe({ groupId: uniqueName('health-reader'), topics: [topics.ENDPOINT_HEALTH_TOPIC], fromBeginning: true, handle: async (m) => void healthReports.push(m) }),
  ]);
  return { attempts, healthReports, stop: async () => void (await Promise.all(readers.map((r) => r.stop()))) };
}
