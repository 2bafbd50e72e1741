import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  cloudEventSources,
  cloudEventTypes,
  eventTypeOf,
  subjectKeyTransportContext,
  toCloudEventsKafkaMessage,
  toCloudEventsRecord,
  toPurchaseStatusV2KafkaMessage,
  Topics,
  type PersonalDataErasureV1,
  type PurchaseStatusEventV1,
  type PurchaseStatusEventV2,
  type SubjectKeyRecordV1,
} from '@gancho/contracts';
import { PostgresEventStore, type ReadPage, type StoredEvent } from '@gancho/event-store';
import { EVENT_TRANSPORT, type EventTransport, type OutgoingMessage } from '@gancho/messaging';
import { ServiceOutbox, type NotifyingOutboxSource, type OutboxRelayDefinition } from '@gancho/outbox';
import { contractTopicSpec, ServiceMetrics } from '@gancho/service-kit';
import { SecretBox } from '@gancho/secret-box';
import { Counter } from '@gancho/telemetry';
import type { JourneyConfig } from '../journey.config';
import type { SubjectErased } from '../personal-data/erasure.service';
import { PersonalDataSealing } from '../personal-data/personal-data-sealing';
import { openStudent, type SubjectKey } from '../personal-data/student-codec';
import { SubjectKeyring, type SubjectRegistered } from '../personal-data/subject-keyring';
import type { PurchaseEventMetadata } from '../purchases/purchase-command.handler';

/** The relays' names: each names a checkpoint and a leader lock (renaming one republishes from the first event). */
export const relayNames = {
  /** v1's relay kept its name: turning PUBLISH_STATUS_V1 on again continues where it stopped. */
  statusV1: 'journey.purchase-status',
  statusV2: 'journey.purchase-status.v2',
  subjectKeys: 'journey.subject-keys',
} as const;

function traceOf(event: StoredEvent): { traceparent?: string; tracestate?: string } {
  const metadata = event.metadata as Partial<PurchaseEventMetadata>;
  return { ...(metadata.traceparent ? { traceparent: metadata.traceparent } : {}), ...(metadata.tracestate ? { tracestate: metadata.tracestate } : {}) };
}

function statusEventOf(event: StoredEvent): PurchaseStatusEventV2 | undefined {
  const statusEvent = (event.metadata as Partial<PurchaseEventMetadata>).statusEvent;
  // The source seals clear-text events before it hands them over, so a stored status event here is v2.
  return statusEvent && 'subject_id' in statusEvent.student ? (statusEvent as PurchaseStatusEventV2) : undefined;
}

/** A v1 status event (the student in clear) as the CloudEvents message on journey.purchase-status.v1. */
export function statusMessageOf(event: StoredEvent, statusEvent: PurchaseStatusEventV1): OutgoingMessage {
  return toCloudEventsKafkaMessage({ eventId: event.eventId, type: eventTypeOf(statusEvent.status), time: statusEvent.occurred_at, purchaseId: statusEvent.purchase_id, data: statusEvent, ...traceOf(event) });
}

/**
 * The event store as journey's relays read it: each page comes with the
 * keys of the subjects it names (read from journey.data_subjects, never from
 * the immutable store), and any event still holding a student in clear
 * (stored before the LGPD release, or by a replica of it during a rolling
 * upgrade) is sealed first, so no relay ever publishes one. One source per
 * relay: pages of different relays do not share keys.
 */
export class JourneyPublicationSource implements NotifyingOutboxSource {
  private keys = new Map<string, SubjectKey>();

  constructor(
    private readonly store: PostgresEventStore,
    private readonly keyring: SubjectKeyring,
    private readonly sealing: PersonalDataSealing,
  ) {}

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
    let page = await this.store.readPage(options);
    const clear = page.events.filter((event) => event.streamId.startsWith('purchase:') && !statusEventOf(event) && (event.metadata as Partial<PurchaseEventMetadata>).statusEvent);
    if (clear.length > 0) {
      await this.sealing.sealStreams(clear.map((event) => event.streamId));
      page = await this.store.readPage(options);
    }
    const subjects = page.events.flatMap((event) => {
      if (event.type === 'SubjectRegistered') return [(event.data as SubjectRegistered['data']).subjectId];
      const statusEvent = statusEventOf(event);
      return statusEvent ? [statusEvent.student.subject_id] : [];
    });
    this.keys = await this.keyring.keysOf(subjects);
    return page;
  }

  /** The subject's key as of the last page read (undefined for a subject journey does not know). */
  keyOf(subjectId: string): SubjectKey | undefined {
    return this.keys.get(subjectId);
  }
}

/**
 * Publishes the journey's event store through its outbox relays, so a crash
 * between a commit and its publication loses nothing:
 *
 * - `journey.purchase-status.v2`: every status change, the student sealed as
 *   stored (`sealed: null` once the subject is erased), and on the same relay,
 *   so after the subject's last status, each erasure on
 *   `journey.personal-data-erasures.v1`;
 * - `journey.subject-keys.v1` (compacted): a subject's key when it is
 *   registered, sealed for transport under SECRETS_ENCRYPTION_KEY (read from
 *   journey.data_subjects at publication: the store holds no key), and its
 *   tombstone on erasure;
 * - `journey.purchase-status.v1`, only with PUBLISH_STATUS_V1=true: the
 *   student opened, in clear, for a delivery older than this release; an
 *   event of an erased subject is not published there.
 */
@Injectable()
export class JourneyOutbox implements OnApplicationBootstrap, OnApplicationShutdown {
  private outbox: ServiceOutbox | undefined;
  private readonly logger = new Logger('JourneyOutbox');
  private readonly transportBox: SecretBox;
  private readonly skippedV1: Counter;

  constructor(
    private readonly store: PostgresEventStore,
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly config: ConfigService<JourneyConfig, true>,
    private readonly metrics: ServiceMetrics,
    private readonly keyring: SubjectKeyring,
    private readonly sealing: PersonalDataSealing,
  ) {
    this.transportBox = SecretBox.fromConfig(config.get('SECRETS_ENCRYPTION_KEY', { infer: true }));
    this.skippedV1 = new Counter({
      name: 'gancho_journey_status_v1_skipped_erased_total',
      help: 'Status events not published on journey.purchase-status.v1 (PUBLISH_STATUS_V1) because their student was erased before publication.',
      registers: [metrics.registry],
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // Before anything is published: subject keys under the current master key, events from before this release sealed.
    await this.keyring.resealKeys();
    await this.sealing.sealAll();
    if (!this.config.get('OUTBOX_RELAY_ENABLED', { infer: true })) return;
    const partitions = this.config.get('PURCHASE_STATUS_PARTITIONS', { infer: true });
    const v1Topic = this.config.get('PURCHASE_STATUS_TOPIC', { infer: true });
    const v2Topic = this.config.get('PURCHASE_STATUS_V2_TOPIC', { infer: true });
    const keysTopic = this.config.get('SUBJECT_KEYS_TOPIC', { infer: true });
    const erasuresTopic = this.config.get('PERSONAL_DATA_ERASURES_TOPIC', { infer: true });
    const publishV1 = this.config.get('PUBLISH_STATUS_V1', { infer: true });
    const source = () => new JourneyPublicationSource(this.store, this.keyring, this.sealing);
    const v2Source = source();
    const keysSource = source();
    const relays: OutboxRelayDefinition[] = [
      { name: relayNames.statusV2, topic: v2Topic, source: v2Source, toMessage: (event) => this.statusV2MessageOf(event, v2Source, erasuresTopic) },
      { name: relayNames.subjectKeys, topic: keysTopic, source: keysSource, toMessage: (event) => this.subjectKeyMessageOf(event, keysSource) },
    ];
    const topics = [
      contractTopicSpec(Topics.purchaseStatusV2, { topic: v2Topic, partitions }),
      contractTopicSpec(Topics.subjectKeys, { topic: keysTopic }),
      contractTopicSpec(Topics.personalDataErasures, { topic: erasuresTopic }),
    ];
    if (publishV1) {
      const v1Source = source();
      relays.push({ name: relayNames.statusV1, topic: v1Topic, source: v1Source, toMessage: (event) => this.statusV1MessageOf(event, v1Source) });
      topics.push(contractTopicSpec(Topics.purchaseStatus, { topic: v1Topic, partitions }));
    }
    this.outbox = await ServiceOutbox.start({
      store: this.store,
      transport: this.transport,
      databaseUrl: this.config.get('DATABASE_URL', { infer: true }),
      topics,
      relays,
      log: this.logger,
      trackLag: (relay) => this.metrics.trackOutbox(relay),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.outbox?.stop();
  }

  private statusV2MessageOf(event: StoredEvent, source: JourneyPublicationSource, erasuresTopic: string): (OutgoingMessage & { topic?: string }) | undefined {
    if (event.type === 'SubjectErased') {
      const { erasureId, subjectId, purchases, erasedAt } = event.data as SubjectErased['data'];
      const record: PersonalDataErasureV1 = { erasure_id: erasureId, subject_id: subjectId, purchases, erased_at: erasedAt };
      const message = toCloudEventsRecord({ id: erasureId, type: cloudEventTypes.personalDataErasure, source: cloudEventSources.journey, time: erasedAt, subject: subjectId, data: record });
      return { ...message, topic: erasuresTopic };
    }
    const statusEvent = statusEventOf(event);
    if (!statusEvent) return undefined;
    const subject = source.keyOf(statusEvent.student.subject_id);
    // Erased before publication: the sealed value would open nowhere; say so.
    const data = subject && subject.key === null ? { ...statusEvent, student: { subject_id: statusEvent.student.subject_id, sealed: null } } : statusEvent;
    return toPurchaseStatusV2KafkaMessage({ eventId: event.eventId, type: eventTypeOf(data.status), time: data.occurred_at, purchaseId: data.purchase_id, data, ...traceOf(event) });
  }

  private subjectKeyMessageOf(event: StoredEvent, source: JourneyPublicationSource): OutgoingMessage | undefined {
    const base = { type: cloudEventTypes.subjectKey, source: cloudEventSources.journey, time: event.recordedAt };
    if (event.type === 'SubjectErased') {
      const { subjectId } = event.data as SubjectErased['data'];
      return toCloudEventsRecord({ ...base, id: `${subjectId}:erased`, subject: subjectId, data: null });
    }
    if (event.type !== 'SubjectRegistered') return undefined;
    const { subjectId } = event.data as SubjectRegistered['data'];
    const subject = source.keyOf(subjectId);
    // Erased since: the tombstone follows from SubjectErased; the key is never published after its destruction.
    if (!subject || subject.key === null) return undefined;
    const record: SubjectKeyRecordV1 = {
      subject_id: subjectId,
      key_id: subject.keyId,
      sealed_key: this.transportBox.seal(subject.key.toString('base64'), subjectKeyTransportContext(subjectId)),
    };
    return toCloudEventsRecord({ ...base, id: `${subjectId}:key`, subject: subjectId, data: record });
  }

  private statusV1MessageOf(event: StoredEvent, source: JourneyPublicationSource): OutgoingMessage | undefined {
    const statusEvent = statusEventOf(event);
    if (!statusEvent) return undefined;
    const student = openStudent(source.keyOf(statusEvent.student.subject_id), statusEvent.student);
    if (!student) {
      this.skippedV1.inc();
      return undefined;
    }
    return statusMessageOf(event, { ...statusEvent, student });
  }
}
