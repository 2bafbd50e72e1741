import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { cloudEventSources, cloudEventTypes, toCloudEventsRecord, Topics, type ApiKeyRecordV1, type EndpointStateV1 } from '@gancho/contracts';
import { PostgresEventStore, type ReadPage, type StoredEvent } from '@gancho/event-store';
import { EVENT_TRANSPORT, type EventTransport, type OutgoingMessage } from '@gancho/messaging';
import { ServiceOutbox, type NotifyingOutboxSource } from '@gancho/outbox';
import { contractTopicSpec, ServiceMetrics } from '@gancho/service-kit';
import { SecretBox } from '@gancho/secret-box';
import { initialEndpointState, upcastingEvolve, type EndpointEvent, type EndpointState } from '@gancho/subscriptions-domain';
import { headerSealer } from '../endpoints/endpoint-header-sealing';
import { endpointStateV1 } from '../endpoints/endpoint-views';
import type { ApiKeyIssued, ApiKeyRevoked } from '@gancho/subscriptions-domain';
import type { PortalSessionIssued } from '../portal/portal-session';
import type { SubscriptionsConfig } from '../subscriptions.config';
import { apiKeysRelayName } from './api-key-publication';
import { OperationalEventPublication, operationalEventsRelayName } from './operational-event-publication';

const endpointStreamPrefix = 'endpoint:';

/**
 * Names the endpoints relay's checkpoint and lock. It was `subscriptions.endpoints`
 * while header values went out in the clear; under a new name the relay starts
 * from the first event once, so every endpoint's latest state on the compacted
 * topic is republished with its header values sealed (docs/subscriptions.md,
 * "Custom headers"). Change it only to republish every state again.
 */
export const endpointsRelayName = 'subscriptions.endpoints.sealed-headers';

/**
 * A subscriptions record in CloudEvents binary mode, with the headers of
 * release v0.1.0 (`gancho-event-id`, `gancho-event-type`) beside the `ce_*`
 * ones for the compatibility window (docs/subscriptions.md, "Topics").
 */
function cloudEventOf(event: StoredEvent, type: string, subject: string, data: unknown): OutgoingMessage {
  const metadata = event.metadata;
  return toCloudEventsRecord({
    id: event.eventId,
    type,
    source: cloudEventSources.subscriptions,
    time: event.recordedAt,
    subject,
    data,
    legacyType: event.type,
    ...(typeof metadata.traceparent === 'string' ? { traceparent: metadata.traceparent } : {}),
    ...(typeof metadata.tracestate === 'string' ? { tracestate: metadata.tracestate } : {}),
  });
}

/** An API key event as the record on `subscriptions.api-keys.v1`; other events are not published there. */
export function apiKeyMessageOf(event: StoredEvent): OutgoingMessage | undefined {
  if (event.type === 'PortalSessionIssued') {
    const { data } = { type: event.type, data: event.data } as PortalSessionIssued;
    const record: ApiKeyRecordV1 = {
      key_id: data.keyId,
      partner_id: data.partnerId,
      key_hash: data.keyHash,
      display_prefix: data.displayPrefix,
      revoked: false,
      created_at: data.occurredAt,
      revoked_at: null,
      expires_at: data.expiresAt,
    };
    return cloudEventOf(event, cloudEventTypes.apiKey, data.keyId, record);
  }
  if (event.type !== 'ApiKeyIssued' && event.type !== 'ApiKeyRevoked') return undefined;
  const typed = { type: event.type, data: event.data } as ApiKeyIssued | ApiKeyRevoked;
  const { data } = typed;
  const record: ApiKeyRecordV1 = {
    key_id: data.keyId,
    partner_id: data.partnerId,
    key_hash: data.keyHash,
    display_prefix: data.displayPrefix,
    revoked: typed.type === 'ApiKeyRevoked',
    created_at: typed.type === 'ApiKeyRevoked' ? typed.data.createdAt : data.occurredAt,
    revoked_at: typed.type === 'ApiKeyRevoked' ? data.occurredAt : null,
  };
  return cloudEventOf(event, cloudEventTypes.apiKey, data.keyId, record);
}

/**
 * The event store as the endpoints relay reads it: each endpoint event comes
 * with the endpoint's full state right after it (folded from its stream with
 * the same `evolve` as the commands), since the topic carries states, not
 * changes. A delete becomes a tombstone.
 */
export class EndpointStateSource implements NotifyingOutboxSource {
  private readonly stateAfter = new Map<string, EndpointStateV1 | null>();
  private readonly evolve: (state: EndpointState, event: EndpointEvent) => EndpointState;

  /** The box seals header values of events recorded before they were sealed, so no state goes out with them in the clear. */
  constructor(
    private readonly store: PostgresEventStore,
    box: SecretBox,
  ) {
    this.evolve = upcastingEvolve(headerSealer(box));
  }

  /** The store's own: this source wakes for the same appends. */
  get notifications(): { channel: string; payload: string } {
    return this.store.notifications;
  }

  headPosition(): Promise<bigint> {
    return this.store.headPosition();
  }

  readCheckpoint(name: string): Promise<bigint | undefined> {
    return this.store.readCheckpoint(name);
  }

  storeCheckpoint(name: string, position: bigint): Promise<void> {
    return this.store.storeCheckpoint(name, position);
  }

  async readPage(options: { after: bigint; limit: number }): Promise<ReadPage> {
    const page = await this.store.readPage(options);
    const events = page.events;
    this.stateAfter.clear();
    const wanted = new Set(events.filter((e) => e.streamId.startsWith(endpointStreamPrefix)).map((e) => e.eventId));
    for (const streamId of new Set(events.filter((e) => wanted.has(e.eventId)).map((e) => e.streamId))) {
      let state: EndpointState = initialEndpointState;
      for (const stored of await this.store.readStream<EndpointEvent['data']>(streamId)) {
        state = this.evolve(state, { type: stored.type, data: stored.data } as EndpointEvent);
        if (wanted.has(stored.eventId)) this.stateAfter.set(stored.eventId, state.status === 'live' ? endpointStateV1(state.endpoint) : null);
      }
    }
    return page;
  }

  /** The endpoint's state right after an event of the page `readPage` returned last: null once deleted, undefined for an event of no endpoint. */
  stateAfterEvent(eventId: string): EndpointStateV1 | null | undefined {
    return this.stateAfter.get(eventId);
  }

  /** The message for an event of the page `readPage` returned last. */
  messageOf(event: StoredEvent): OutgoingMessage | undefined {
    if (!this.stateAfter.has(event.eventId)) return undefined;
    const state = this.stateAfter.get(event.eventId);
    // A null state is a tombstone: an empty value (see decodePayload in @gancho/messaging).
    return cloudEventOf(event, cloudEventTypes.endpointState, event.streamId.slice(endpointStreamPrefix.length), state ?? null);
  }
}

/**
 * Publishes the subscriptions event store through two outbox relays: endpoint
 * states to `subscriptions.endpoints.v1` and API key records to
 * `subscriptions.api-keys.v1`, both compacted. Each relay has its own
 * checkpoint and leader lock, so several replicas can run this safely.
 */
@Injectable()
export class SubscriptionsOutbox implements OnApplicationBootstrap, OnApplicationShutdown {
  private outbox: ServiceOutbox | undefined;

  constructor(
    private readonly store: PostgresEventStore,
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly config: ConfigService<SubscriptionsConfig, true>,
    private readonly secretBox: SecretBox,
    private readonly metrics: ServiceMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.get('OUTBOX_RELAY_ENABLED', { infer: true })) return;
    const endpointsTopic = this.config.get('ENDPOINTS_TOPIC', { infer: true });
    const apiKeysTopic = this.config.get('API_KEYS_TOPIC', { infer: true });
    const operationalTopic = this.config.get('OPERATIONAL_EVENTS_TOPIC', { infer: true });
    const endpointStates = new EndpointStateSource(this.store, this.secretBox);
    const operationalEvents = new OperationalEventPublication(new EndpointStateSource(this.store, this.secretBox), this.config.get('SECRET_ROTATION_NOTICE_MS', { infer: true }));
    this.outbox = await ServiceOutbox.start({
      store: this.store,
      transport: this.transport,
      databaseUrl: this.config.get('DATABASE_URL', { infer: true }),
      topics: [contractTopicSpec(Topics.endpoints, { topic: endpointsTopic }), contractTopicSpec(Topics.apiKeys, { topic: apiKeysTopic }), contractTopicSpec(Topics.operationalEvents, { topic: operationalTopic })],
      relays: [
        { name: endpointsRelayName, topic: endpointsTopic, source: endpointStates, toMessage: (e) => endpointStates.messageOf(e) },
        // Its checkpoint is stored after every batch: issuing a key waits for it (ApiKeyPublication), on any replica.
        { name: apiKeysRelayName, topic: apiKeysTopic, toMessage: apiKeyMessageOf, checkpointIntervalMs: 0 },
        { name: operationalEventsRelayName, topic: operationalTopic, source: operationalEvents.source, toMessage: (e) => operationalEvents.messageOf(e) },
      ],
      log: new Logger('SubscriptionsOutbox'),
      trackLag: (relay) => this.metrics.trackOutbox(relay),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.outbox?.stop();
  }
}
