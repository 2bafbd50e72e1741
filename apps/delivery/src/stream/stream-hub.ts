import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { cloudEventTypes, fromCloudEventsKafkaMessage, isEventType, matchesEventTypeFilter, readCloudEventAttributes, type DeliveryAttemptV1, type EventTypeFilter } from '@gancho/contracts';
import { messageIdFor, webhookBodyFor } from '@gancho/delivery-domain';
import type { IncomingMessage } from '@gancho/messaging';
import { advance, encodePosition, StreamBuffer, type StreamEntry, type StreamPosition } from './stream-buffer';
import { isTestMessageId, testStatusEvent, testWebhookBody } from '../messages/test-message';
import { STREAM_CONFIG, type StreamConfig } from './stream.config';

/** The endpoint id the stream's webhook ids are derived from: stable per event, distinct from every real endpoint's. */
export const streamWebhookIdScope = 'gancho-stream';

/** What a `webhook` frame carries. */
export type StreamedWebhook = Pick<StreamEntry, 'eventId' | 'webhookId' | 'type' | 'purchaseId' | 'occurredAt' | 'body'> & {
  /** A test send (`POST /endpoints/:id/test`): live only, not part of the resume position. */
  test?: true;
};

export interface StreamSink {
  /** Sends one event with the client's position after it (its SSE id); a test send has none (it does not move the position). */
  send(entry: StreamedWebhook, id: string | undefined): void;
  /** Ends the connection (the client resumes from its last id). */
  close(): void;
}

interface Listener {
  partnerId: string;
  filter: EventTypeFilter;
  position: Map<number, bigint>;
  sink: StreamSink;
}

export interface OpenedStream {
  /** The client's position before anything is sent (the SSE id of the `ready` event). */
  startId: string;
  /** Events dropped from the buffer since the client's position: it was away too long. */
  gap: boolean;
  replayed: number;
  close(): void;
}

/**
 * Fans the status events this instance reads out to the partners' live
 * streams, and keeps the recent ones so a client that reconnects with its
 * last event id gets what it missed.
 */
@Injectable()
export class StreamHub implements OnModuleDestroy {
  private readonly logger = new Logger('StreamHub');
  private readonly buffer: StreamBuffer;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(@Inject(STREAM_CONFIG) config: StreamConfig) {
    this.buffer = new StreamBuffer({ perPartner: config.STREAM_BUFFER_PER_PARTNER, windowMs: config.STREAM_BUFFER_WINDOW_MS, now: Date.now });
    this.sweeper = setInterval(() => this.buffer.sweep(), Math.min(60_000, config.STREAM_BUFFER_WINDOW_MS)).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /** Adds status events read from the topic; returns how many were new. */
  ingest(records: IncomingMessage[]): number {
    let added = 0;
    for (const record of records) {
      let entry: StreamEntry;
      try {
        const event = fromCloudEventsKafkaMessage({ key: record.key, value: record.value, headers: record.headers });
        entry = {
          partition: record.partition,
          offset: BigInt(record.offset),
          partnerId: event.data.partner_id,
          type: event.type,
          eventId: event.eventId,
          webhookId: messageIdFor(event.eventId, streamWebhookIdScope),
          purchaseId: event.purchaseId,
          occurredAt: event.data.occurred_at,
          body: webhookBodyFor(event.data, event.type),
          receivedAt: Date.now(),
        };
      } catch (error) {
        // The delivery consumer logs malformed events already; the stream just skips them.
        this.logger.debug(`skipped a status event at ${record.partition}/${record.offset}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      if (!this.buffer.add(entry)) continue;
      added++;
      for (const listener of this.listeners.get(entry.partnerId) ?? []) this.deliver(listener, entry);
    }
    return added;
  }

  private connectionsChanged: ((total: number) => void) | undefined;

  /**
   * Opens a partner's stream: replays what it missed since `resumeFrom` (when
   * given), then sends every new event that matches `filter`. Replay and
   * registration happen in one synchronous step, so no event falls between.
   */
  open(partnerId: string, filter: EventTypeFilter, resumeFrom: StreamPosition | undefined, sink: StreamSink): OpenedStream {
    const position = resumeFrom ? new Map(resumeFrom) : this.buffer.currentPosition();
    const startId = encodePosition(position);
    const { entries, gap } = resumeFrom ? this.buffer.since(partnerId, resumeFrom) : { entries: [], gap: false };
    const listener: Listener = { partnerId, filter, position, sink };
    let replayed = 0;
    for (const entry of entries) if (this.deliver(listener, entry)) replayed++;
    let set = this.listeners.get(partnerId);
    if (!set) {
      set = new Set();
      this.listeners.set(partnerId, set);
    }
    set.add(listener);
    this.connectionsChanged?.(this.connections());
    return {
      startId,
      gap,
      replayed,
      close: () => {
        set.delete(listener);
        if (set.size === 0 && this.listeners.get(partnerId) === set) this.listeners.delete(partnerId);
        this.connectionsChanged?.(this.connections());
      },
    };
  }

  /** Called with this instance's number of live connections whenever it changes (the consumer follows test sends only while there are some). */
  onConnectionsChanged(listener: (total: number) => void): void {
    this.connectionsChanged = listener;
  }

  /**
   * Offers the partner's test sends to its live streams, read from the
   * attempts topic: a test send's first attempt, whichever instance made it.
   * The body is rebuilt from the event type's example (an attempt record
   * carries none), exactly as the endpoint received it. Live only: a client
   * connected now gets it; it is not buffered for resuming. Returns how many
   * were offered.
   */
  offerTestSends(records: IncomingMessage[]): number {
    let offered = 0;
    for (const record of records) {
      // Cheap first: the key is the message id, and nearly every attempt is of a status event's message.
      if (record.key === null || !isTestMessageId(record.key)) continue;
      let webhook: StreamedWebhook;
      let partnerId: string;
      try {
        if (readCloudEventAttributes(record).type !== cloudEventTypes.deliveryAttempt) continue;
        const attempt = JSON.parse(record.value.toString('utf8')) as Partial<DeliveryAttemptV1>;
        if (attempt.attempt_number !== 1 || typeof attempt.partner_id !== 'string' || typeof attempt.message_id !== 'string' || !isEventType(attempt.event_type)) continue;
        partnerId = attempt.partner_id;
        const event = testStatusEvent(attempt.event_type, partnerId);
        webhook = {
          eventId: attempt.message_id,
          webhookId: messageIdFor(attempt.message_id, streamWebhookIdScope),
          type: attempt.event_type,
          purchaseId: event.purchase_id,
          occurredAt: event.occurred_at,
          body: testWebhookBody(attempt.event_type, partnerId),
          test: true,
        };
      } catch (error) {
        this.logger.debug(`skipped an attempt record at ${record.partition}/${record.offset}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      for (const listener of this.listeners.get(partnerId) ?? []) {
        if (!matchesEventTypeFilter(listener.filter, webhook.type)) continue;
        listener.sink.send(webhook, undefined);
        offered++;
      }
    }
    return offered;
  }

  /** Live connections of a partner (or of everyone). */
  connections(partnerId?: string): number {
    if (partnerId !== undefined) return this.listeners.get(partnerId)?.size ?? 0;
    let total = 0;
    for (const set of this.listeners.values()) total += set.size;
    return total;
  }

  /** Whether this instance has read the event (for tests and diagnostics). */
  hasEvent(partnerId: string, eventId: string): boolean {
    return this.buffer.since(partnerId, new Map()).entries.some((entry) => entry.eventId === eventId);
  }

  /** Ends every live connection (shutdown); clients resume elsewhere from their last id. */
  closeAll(): void {
    for (const set of [...this.listeners.values()]) for (const listener of [...set]) listener.sink.close();
  }

  private deliver(listener: Listener, entry: StreamEntry): boolean {
    if (!matchesEventTypeFilter(listener.filter, entry.type)) return false;
    advance(listener.position, entry);
    listener.sink.send(entry, encodePosition(listener.position));
    return true;
  }
}
