import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { ApiKeyRecordV1, EndpointStateV1 } from '@gancho/contracts';
import { PostgresEventStore, type ReadPage, type StoredEvent } from '@gancho/event-store';
import { EVENT_TRANSPORT, type EventTransport, type OutgoingMessage, type TransportHeaders } from '@gancho/messaging';
import { OutboxRelay, type OutboxSource } from '@gancho/outbox';
import { SecretBox } from '@gancho/secret-box';
import { initialEndpointState, upcastingEvolve, type EndpointEvent, type EndpointState } from '@gancho/subscriptions-domain';
import { headerSealer } from '../endpoints/endpoint-header-sealing';
import { endpointStateV1 } from '../endpoints/endpoint-views';
import type { ApiKeyIssued, ApiKeyRevoked } from '@gancho/subscriptions-domain';
import type { PortalSessionIssued } from '../portal/portal-session';
import type { SubscriptionsConfig } from '../subscriptions.config';
import { apiKeysRelayName } from './api-key-publication';

const endpointStreamPrefix = 'endpoint:';

/**
 * Names the endpoints relay's checkpoint and lock. It was `subscriptions.endpoints`
 * while header values went out in the clear; under a new name the relay starts
 * from the first event once, so every endpoint's latest state on the compacted
 * topic is republished with its header values sealed (docs/subscriptions.md,
 * "Custom headers"). Change it only to republish every state again.
 */
export const endpointsRelayName = 'subscriptions.endpoints.sealed-headers';

function headersOf(event: StoredEvent): TransportHeaders {
  const metadata = event.metadata;
  return {
    'content-type': 'application/json',
    'gancho-event-id': event.eventId,
    'gancho-event-type': event.type,
    ...(typeof metadata.traceparent === 'string' ? { traceparent: metadata.traceparent } : {}),
    ...(typeof metadata.tracestate === 'string' ? { tracestate: metadata.tracestate } : {}),
  };
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
    return { key: data.keyId, value: JSON.stringify(record), headers: headersOf(event) };
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
  return { key: data.keyId, value: JSON.stringify(record), headers: headersOf(event) };
}

/**
 * The event store as the endpoints relay reads it: each endpoint event comes
 * with the endpoint's full state right after it (folded from its stream with
 * the same `evolve` as the commands), since the topic carries states, not
 * changes. A delete becomes a tombstone.
 */
export class EndpointStateSource implements OutboxSource {
  private readonly stateAfter = new Map<string, EndpointStateV1 | null>();
  private readonly evolve: (state: EndpointState, event: EndpointEvent) => EndpointState;

  /** The box seals header values of events recorded before they were sealed, so no state goes out with them in the clear. */
  constructor(
    private readonly store: PostgresEventStore,
    box: SecretBox,
  ) {
    this.evolve = upcastingEvolve(headerSealer(box));
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

  /** The message for an event of the page `readPage` returned last. */
  messageOf(event: StoredEvent): OutgoingMessage | undefined {
    if (!this.stateAfter.has(event.eventId)) return undefined;
    const state = this.stateAfter.get(event.eventId);
    // An empty value is the port's tombstone (see decodePayload in @gancho/messaging).
    return { key: event.streamId.slice(endpointStreamPrefix.length), value: state ? JSON.stringify(state) : '', headers: headersOf(event) };
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
  private readonly relays: OutboxRelay[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly config: ConfigService<SubscriptionsConfig, true>,
    private readonly secretBox: SecretBox,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.get('OUTBOX_RELAY_ENABLED', { infer: true })) return;
    const endpointsTopic = this.config.get('ENDPOINTS_TOPIC', { infer: true });
    const apiKeysTopic = this.config.get('API_KEYS_TOPIC', { infer: true });
    await this.transport.ensureTopics([
      { topic: endpointsTopic, compacted: true },
      { topic: apiKeysTopic, compacted: true },
    ]);
    const store = new PostgresEventStore(this.dataSource);
    const endpointStates = new EndpointStateSource(store, this.secretBox);
    const logger = new Logger('SubscriptionsOutbox');
    const common = {
      transport: this.transport,
      databaseUrl: this.config.get('DATABASE_URL', { infer: true }),
      wakeOn: store.notifications,
      log: { info: (m: string) => logger.log(m), warn: (m: string) => logger.warn(m), error: (m: string) => logger.error(m) },
    };
    this.relays.push(
      new OutboxRelay({ ...common, name: endpointsRelayName, topic: endpointsTopic, source: endpointStates, toMessage: (e) => endpointStates.messageOf(e) }),
      // Its checkpoint is stored after every batch: issuing a key waits for it (ApiKeyPublication), on any replica.
      new OutboxRelay({ ...common, name: apiKeysRelayName, topic: apiKeysTopic, source: store, toMessage: apiKeyMessageOf, checkpointIntervalMs: 0 }),
    );
    for (const relay of this.relays) relay.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.relays.splice(0).map((relay) => relay.stop()));
  }
}
