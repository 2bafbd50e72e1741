import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { fromCloudEventsKafkaMessage, InvalidCloudEventError, Topics, type PurchaseStatusCloudEvent } from '@gancho/contracts';
import { messageIdFor, webhookBodyFor } from '@gancho/delivery-domain';
import { EVENT_TRANSPORT, type EventTransport, type IncomingMessage, type Subscription } from '@gancho/messaging';
import { contractTopicSpec, ServiceMetrics } from '@gancho/service-kit';
import { extractTraceContext, injectTraceContext, recordError, SpanKind, startSpan, withActiveSpan, type Span } from '@gancho/telemetry';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { DeliveryConfig } from '../delivery.config';
import { MessageStore, type LeasedMessage, type NewMessage } from '../dispatch/message-store';
import type { NewStatusEvent } from '../events/status-event-log';
import { EndpointDirectory } from '../routing/endpoint-directory';
import { HeldStatusEvents } from './held-status-events';

/** What ingest hands new messages to, so they need not be claimed (the dispatcher). */
export interface FirstAttemptHandOff {
  readonly leaseSeconds: number;
  reserveFirstAttempts(candidates: readonly { messageId: string; endpointId: string; ordered: boolean }[]): Set<string>;
  sendHandedOff(reserved: ReadonlyMap<string, { endpointId: string }>, stored: readonly LeasedMessage[]): Promise<void>;
}

/**
 * Consumes `journey.purchase-status.v1` in the delivery consumer group and
 * turns each status event into one message per matching endpoint. The
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

  constructor(
    private readonly messages: MessageStore,
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly directory: EndpointDirectory,
    private readonly config: ConfigService<DeliveryConfig, true>,
    private readonly metrics: ServiceMetrics,
    @InjectDataSource() dataSource: DataSource,
  ) {
    this.held = new HeldStatusEvents(dataSource);
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
    await this.transport.ensureTopics([contractTopicSpec(Topics.purchaseStatus, { topic })]);
    await this.ingestHeld();
    this.subscription = await this.transport.subscribe({
      groupId: this.config.get('STATUS_CONSUMER_GROUP', { infer: true }),
      topics: [topic],
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
    const readable = (await this.held.all()).filter((record) => readStatusEvent(record).event !== undefined);
    if (readable.length === 0) return;
    await this.ingest(readable);
    await this.held.release(readable);
    this.logger.log(`delivered ${readable.length} held status events this release reads`);
  }

  /** Stores the messages for a batch of status events; returns how many were new. */
  async ingest(records: IncomingMessage[]): Promise<number> {
    const rows: NewMessage[] = [];
    const events: NewStatusEvent[] = [];
    const spans: Span[] = [];
    const unreadable: { record: IncomingMessage; problems: string[] }[] = [];
    for (const record of records) {
      const { event, problems } = readStatusEvent(record);
      if (event === undefined) {
        // Must-understand: never delivered on a partial reading, nor dropped (holding the partition would stall every
        // purchase behind it): kept for a delivery that reads it. The problems name rules, not the student's data.
        unreadable.push({ record, problems });
        this.metrics.recordNotUnderstood(record.topic);
        this.logger.error(`held a status event this release cannot fully read at ${record.topic}/${record.partition}/${record.offset}: ${problems.slice(0, 5).join('; ')}`);
        continue;
      }
      const payload = webhookBodyFor(event.data, event.type);
      const endpoints = this.directory.route(event.data.partner_id, event.type);
      // One span per status event, the child of the producer span named in its headers.
      const span = startSpan(
        'status-event.ingest',
        { 'messaging.destination.name': record.topic, 'messaging.message.id': event.eventId, 'gancho.event.type': event.type, 'gancho.endpoints.routed': endpoints.length },
        { kind: SpanKind.CONSUMER, parent: extractTraceContext(record.headers, ROOT_CONTEXT) },
      );
      spans.push(span);
      const traceContext = withActiveSpan(span, () => injectTraceContext<Record<string, string>>({}), ROOT_CONTEXT)['traceparent'] ?? null;
      const messageIds = endpoints.map((endpoint) => messageIdFor(event.eventId, endpoint.state.endpoint_id));
      events.push({
        eventId: event.eventId,
        partnerId: event.data.partner_id,
        eventType: event.type,
        purchaseId: event.purchaseId,
        sequence: event.data.sequence,
        occurredAt: event.time,
        messageIds,
        payload,
      });
      for (const [i, endpoint] of endpoints.entries()) {
        rows.push({
          messageId: messageIds[i] as string,
          eventId: event.eventId,
          endpointId: endpoint.state.endpoint_id,
          partnerId: event.data.partner_id,
          eventType: event.type,
          purchaseId: event.purchaseId,
          payload,
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
    return inserted.length;
  }
}

/** A status event as this release reads it, or why it cannot fully. */
function readStatusEvent(record: IncomingMessage): { event?: PurchaseStatusCloudEvent; problems: string[] } {
  try {
    return { event: fromCloudEventsKafkaMessage({ key: record.key, value: record.value, headers: record.headers }), problems: [] };
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
