import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  fromCloudEventsKafkaMessage,
  fromPurchaseStatusV2KafkaMessage,
  InvalidCloudEventError,
  Topics,
  type EventType,
  type PurchaseStatusCloudEvent,
  type PurchaseStatusCloudEventV2,
  type StudentPersonalData,
} from '@gancho/contracts';
import { messageIdFor, studentViewOf, webhookBodyFor, webhookStudentOf, type StudentView } from '@gancho/delivery-domain';
import { EVENT_TRANSPORT, type EventTransport, type IncomingMessage, type Subscription } from '@gancho/messaging';
import { SecretBox } from '@gancho/secret-box';
import { contractTopicSpec, ServiceMetrics } from '@gancho/service-kit';
import { extractTraceContext, injectTraceContext, recordError, SpanKind, startSpan, withActiveSpan, type Span } from '@gancho/telemetry';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { DeliveryConfig } from '../delivery.config';
import { MessageStore, type LeasedMessage, type NewMessage } from '../dispatch/message-store';
import type { NewStatusEvent } from '../events/status-event-log';
import { EndpointDirectory } from '../routing/endpoint-directory';
import { openStudent, SubjectKeyStore, type SubjectKnowledge } from '../personal-data/subject-keys';
import { HeldStatusEvents } from './held-status-events';

/** What ingest hands new messages to, so they need not be claimed (the dispatcher). */
export interface FirstAttemptHandOff {
  readonly leaseSeconds: number;
  reserveFirstAttempts(candidates: readonly { messageId: string; endpointId: string; ordered: boolean }[]): Set<string>;
  sendHandedOff(reserved: ReadonlyMap<string, { endpointId: string }>, stored: readonly LeasedMessage[]): Promise<void>;
}

/**
 * Consumes `journey.purchase-status.v1` and `.v2` in the delivery consumer
 * group and turns each status event into one message per matching endpoint.
 * A v2 event's student opens with its subject's key (`subject_keys`); one
 * whose key has not arrived yet is held (`held_status_events`, before its
 * offset is committed) and ingested when the key arrives, or rendered erased
 * on the subject's tombstone. The
 * message id comes from (event id, endpoint id), so a batch consumed again
 * after a crash inserts nothing new; offsets are committed only after the
 * insert, so nothing consumed is lost.
 */
@Injectable()
export class StatusEventConsumer implements OnApplicationShutdown {
  private readonly logger = new Logger('StatusEventConsumer');
  private subscription: Subscription | undefined;
  private readonly listeners = new Set<() => void>();
  private handOff: FirstAttemptHandOff | undefined;
  private readonly held: HeldStatusEvents;
  readonly subjectKeys: SubjectKeyStore;
  private readonly v2Topic: string;

  constructor(
    private readonly messages: MessageStore,
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly directory: EndpointDirectory,
    private readonly config: ConfigService<DeliveryConfig, true>,
    private readonly metrics: ServiceMetrics,
    @InjectDataSource() dataSource: DataSource,
  ) {
    this.held = new HeldStatusEvents(dataSource);
    this.subjectKeys = new SubjectKeyStore(dataSource, SecretBox.fromConfig(config.get('SECRETS_ENCRYPTION_KEY', { infer: true })));
    this.v2Topic = config.get('PURCHASE_STATUS_V2_TOPIC', { infer: true });
  }

  /** New messages the hand-off can send at once are stored leased and given to it. */
  handOffTo(handOff: FirstAttemptHandOff): void {
    this.handOff = handOff;
  }

  /** Called when new messages were stored (the dispatcher wakes up). */
  onMessagesStored(listener: () => void): void {
    this.listeners.add(listener);
  }

  async start(): Promise<void> {
    const topic = this.config.get('PURCHASE_STATUS_TOPIC', { infer: true });
    await this.transport.ensureTopics([contractTopicSpec(Topics.purchaseStatus, { topic }), contractTopicSpec(Topics.purchaseStatusV2, { topic: this.v2Topic })]);
    await this.ingestHeld();
    this.subscription = await this.transport.subscribe({
      groupId: this.config.get('STATUS_CONSUMER_GROUP', { infer: true }),
      topics: [topic, this.v2Topic],
      fromBeginning: true,
      handleBatch: async (messages) => {
        await this.ingest(messages);
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.stop();
  }

  /**
   * Delivers the held status events this release reads (held by an older
   * release, or before an upgrade); the others stay held.
   */
  private async ingestHeld(): Promise<void> {
    const readable = (await this.held.all()).filter((record) => this.read(record).event !== undefined);
    if (readable.length === 0) return;
    const { held } = await this.ingestBatch(readable);
    const done = readable.filter((record) => !held.has(record));
    await this.held.release(done);
    if (done.length > 0) this.logger.log(`delivered ${done.length} held status events this release reads`);
  }

  /**
   * Ingests the events held for these subjects' keys (the key arrived, or the
   * subject was erased: then the student is shown erased). Idempotent.
   */
  async releaseAwaiting(subjectIds: readonly string[]): Promise<number> {
    const records = await this.held.awaiting(subjectIds);
    if (records.length === 0) return 0;
    const { held } = await this.ingestBatch(records);
    const done = records.filter((record) => !held.has(record));
    await this.held.release(done);
    return done.length;
  }

  /** Stores the messages for a batch of status events; returns how many were new. */
  async ingest(records: IncomingMessage[]): Promise<number> {
    return (await this.ingestBatch(records)).inserted;
  }

  private read(record: IncomingMessage): ReadStatusEvent {
    return readStatusEvent(record, record.topic === this.v2Topic ? 2 : 1);
  }

  /** The messages of a batch, and the records held (unreadable, or waiting for their subject's key). */
  private async ingestBatch(records: IncomingMessage[]): Promise<{ inserted: number; held: Set<IncomingMessage> }> {
    const rows: NewMessage[] = [];
    const events: NewStatusEvent[] = [];
    const spans: Span[] = [];
    const unreadable: { record: IncomingMessage; problems: string[]; awaitingSubjectId?: string }[] = [];
    const read = records.map((record) => ({ record, ...this.read(record) }));
    const sealedSubjects = read.flatMap(({ event }) => (event?.version === 2 && event.event.data.student.sealed !== null ? [event.event.data.student.subject_id] : []));
    const knowledge = await this.subjectKeys.knowledgeOf(sealedSubjects);
    const awaiting = new Set<string>();
    for (const { record, event: statusEvent, problems } of read) {
      if (statusEvent === undefined) {
        // Must-understand: never delivered on a partial reading, nor dropped (holding the partition would stall every
        // purchase behind it): kept for a delivery that reads it. The problems name rules, not the student's data.
        unreadable.push({ record, problems });
        this.metrics.recordNotUnderstood(record.topic);
        this.logger.error(`held a status event this release cannot fully read at ${record.topic}/${record.partition}/${record.offset}: ${problems.slice(0, 5).join('; ')}`);
        continue;
      }
      const student = studentOf(statusEvent, knowledge);
      if (student.kind === 'awaiting') {
        // Never sent without the data it should carry, never lost: held until the key (or its tombstone) arrives.
        unreadable.push({ record, problems: ['waiting for the subject key'], awaitingSubjectId: student.subjectId });
        awaiting.add(student.subjectId);
        continue;
      }
      if (student.kind === 'unopenable') {
        unreadable.push({ record, problems: [student.problem] });
        this.metrics.recordNotUnderstood(record.topic);
        this.logger.error(`held a status event whose student does not open at ${record.topic}/${record.partition}/${record.offset}: ${student.problem}`);
        continue;
      }
      const event = statusEvent.event;
      const payload = bodiesByStudentView(event, student.student, student.subjectId);
      const endpoints = this.directory.route(event.data.partner_id, event.type, event.data);
      // One span per status event, the child of the producer span named in its headers.
      const span = startSpan(
        'status-event.ingest',
        { 'messaging.destination.name': record.topic, 'messaging.message.id': event.eventId, 'gancho.event.type': event.type, 'gancho.endpoints.routed': endpoints.length },
        { kind: SpanKind.CONSUMER, parent: extractTraceContext(record.headers, ROOT_CONTEXT) },
      );
      spans.push(span);
      const traceContext = withActiveSpan(span, () => injectTraceContext<Record<string, string>>({}), ROOT_CONTEXT)['traceparent'] ?? null;
      // An ActiveCampaign contact is found by its e-mail: an erased student has none left to sync.
      const sendTo = student.student === null ? endpoints.filter((endpoint) => !endpoint.activeCampaign) : endpoints;
      const messageIds = sendTo.map((endpoint) => messageIdFor(event.eventId, endpoint.state.endpoint_id));
      events.push({
        eventId: event.eventId,
        partnerId: event.data.partner_id,
        eventType: event.type,
        purchaseId: event.purchaseId,
        sequence: event.data.sequence,
        occurredAt: event.time,
        messageIds,
        // The events API shows the webhook as a personal-data endpoint receives it; erasure redacts it with the message log.
        payload: payload(student.student === null ? 'erased' : 'personal'),
      });
      for (const [i, endpoint] of sendTo.entries()) {
        rows.push({
          messageId: messageIds[i] as string,
          eventId: event.eventId,
          endpointId: endpoint.state.endpoint_id,
          partnerId: event.data.partner_id,
          eventType: event.type,
          purchaseId: event.purchaseId,
          payload: payload(student.student === null ? 'erased' : studentViewOf(endpoint.state)),
          eventRecordedAt: event.time,
          sequence: event.data.sequence,
          ordered: endpoint.state.ordering === 'per_purchase',
          traceContext,
        });
      }
    }
    const handOff = this.handOff;
    const reservedIds = handOff?.reserveFirstAttempts(rows) ?? new Set<string>();
    const reserved = new Map(rows.filter((r) => reservedIds.has(r.messageId)).map((r) => [r.messageId, r]));
    await this.held.hold(unreadable);
    let inserted: string[] = [];
    try {
      inserted = await this.messages.insert(rows, handOff && reserved.size > 0 ? { leased: reservedIds, leaseSeconds: handOff.leaseSeconds } : undefined, events);
    } catch (error) {
      for (const span of spans) recordError(span, error);
      throw error;
    } finally {
      for (const span of spans) span.end();
      if (handOff && reserved.size > 0) {
        const stored = inserted.flatMap((id) => {
          const row = reserved.get(id);
          return row ? [handedOffMessageOf(row)] : [];
        });
        await handOff.sendHandedOff(reserved, stored);
      }
    }
    if (inserted.length > reserved.size || inserted.some((id) => !reserved.has(id))) for (const listener of this.listeners) listener();
    // The key may have arrived while these were being held: whoever writes second sees the other's write.
    if (awaiting.size > 0) {
      const now = await this.subjectKeys.knowledgeOf([...awaiting]);
      const arrived = [...now].filter(([, known]) => known.state !== 'unknown').map(([id]) => id);
      if (arrived.length > 0) await this.releaseAwaiting(arrived);
    }
    return { inserted: inserted.length, held: new Set(unreadable.map((u) => u.record)) };
  }
}

type StudentInput = { kind: 'ready'; student: StudentPersonalData | null; subjectId: string | undefined } | { kind: 'awaiting'; subjectId: string } | { kind: 'unopenable'; problem: string };

/** The student of a status event as its webhooks show it: in clear (v1), opened (v2), erased (null), or not yet known. */
function studentOf(read: StatusEventOfVersion, knowledge: Map<string, SubjectKnowledge>): StudentInput {
  if (read.version === 1) return { kind: 'ready', student: read.event.data.student, subjectId: undefined };
  const { subject_id: subjectId, sealed } = read.event.data.student;
  if (sealed === null) return { kind: 'ready', student: null, subjectId };
  const known = knowledge.get(subjectId) ?? { state: 'unknown' };
  if (known.state === 'unknown') return { kind: 'awaiting', subjectId };
  if (known.state === 'erased') return { kind: 'ready', student: null, subjectId };
  try {
    return { kind: 'ready', student: openStudent(known.box, subjectId, sealed), subjectId };
  } catch {
    return { kind: 'unopenable', problem: 'data.student.sealed does not open under the subject key' };
  }
}

/** The body of a status event as each endpoint sees its student, rendered once per view used. */
function bodiesByStudentView(event: { type: EventType; data: Omit<PurchaseStatusCloudEvent['data'], 'student'> }, student: StudentPersonalData | null, subjectId: string | undefined): (view: StudentView) => string {
  const bodies = new Map<StudentView, string>();
  return (view) => {
    let body = bodies.get(view);
    if (body === undefined) {
      body = webhookBodyFor({ ...event.data, student: webhookStudentOf(student, subjectId, view) }, event.type);
      bodies.set(view, body);
    }
    return body;
  };
}

type StatusEventOfVersion = { version: 1; event: PurchaseStatusCloudEvent } | { version: 2; event: PurchaseStatusCloudEventV2 };
type ReadStatusEvent = { event?: StatusEventOfVersion; problems: string[] };

/** A status event as this release reads it, or why it cannot fully. */
function readStatusEvent(record: IncomingMessage, version: 1 | 2): ReadStatusEvent {
  const message = { key: record.key, value: record.value, headers: record.headers };
  try {
    return { event: version === 2 ? { version, event: fromPurchaseStatusV2KafkaMessage(message) } : { version, event: fromCloudEventsKafkaMessage(message) }, problems: [] };
  } catch (error) {
    return { problems: error instanceof InvalidCloudEventError ? [...error.problems] : [error instanceof Error ? error.message : String(error)] };
  }
}

function handedOffMessageOf(row: NewMessage): LeasedMessage {
  return {
    messageId: row.messageId,
    endpointId: row.endpointId,
    partnerId: row.partnerId,
    eventType: row.eventType,
    payload: row.payload,
    attempts: 1,
    eventRecordedAt: new Date(row.eventRecordedAt),
    traceContext: row.traceContext ?? null,
    // Ordered messages are never handed off (their order is kept by the claim).
    ordered: false,
  };
}
