import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { EventTransport, IncomingMessage, Subscription, SubscriptionTarget } from '../event-transport';
import { EventTransportContext } from './event-transport.context';

/**
 * Transport id of the event transport server. `@EventPattern(topic,
 * EVENT_TRANSPORT_STRATEGY)` binds a handler to this server only, in a hybrid
 * app that also has other transports; without it a handler binds to all.
 */
export const EVENT_TRANSPORT_STRATEGY = Symbol('EventTransportStrategy');

/** The consumer group this server joins and the topics it reads. */
export type EventTransportServerOptions = SubscriptionTarget;

export type EventTransportServerStatus = 'connecting' | 'connected' | 'disconnected';

// A type alias, not an interface: Nest's Server wants a Record<string, Function>.
export type EventTransportServerEvents = {
  /** A handler failed (threw, or its Promise or Observable errored); the message will come again. */
  error: (error: Error, context: EventTransportContext) => void;
};

/**
 * NestJS custom transport strategy over the event transport port (Kafka or the
 * PostgreSQL log alike). Handlers are `@EventPattern(topic)`; each gets the
 * payload (parsed JSON when the `content-type` header says JSON, as in
 * CloudEvents binary mode, else the raw Buffer) and an `EventTransportContext`.
 *
 * A message is committed only after its handler finished: a returned Promise
 * resolved, or a returned Observable completed. A handler that throws or
 * errors gets the message again (at-least-once), with the transport's backoff.
 *
 * The server subscribes and unsubscribes; the transport itself belongs to
 * whoever created it (it is not closed by `close()`).
 */
export class EventTransportServer extends Server<EventTransportServerEvents, EventTransportServerStatus> implements CustomTransportStrategy {
  override transportId = EVENT_TRANSPORT_STRATEGY;
  protected override readonly logger = new Logger(EventTransportServer.name);
  private subscription: Promise<Subscription> | undefined;
  private readonly errorListeners = new Set<EventTransportServerEvents['error']>();

  constructor(
    private readonly transport: EventTransport,
    private readonly options: EventTransportServerOptions,
  ) {
    super();
  }

  async listen(callback: (...optionalParams: unknown[]) => unknown): Promise<void> {
    this.warnAboutUnreadPatterns();
    this._status$.next('connecting');
    const { groupId, topics, fromBeginning } = this.options;
    this.subscription ??= this.transport.subscribe({
      groupId,
      topics,
      fromBeginning,
      handle: (message) => this.handleMessage(message),
    });
    try {
      await this.subscription;
    } catch (error) {
      this.subscription = undefined;
      this._status$.next('disconnected');
      callback(error);
      return;
    }
    this._status$.next('connected');
    callback();
  }

  /** Stops consuming; the message in hand is finished and committed first. */
  async close(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    const active = await subscription?.catch(() => undefined);
    await active?.stop();
    this._status$.next('disconnected');
  }

  /** Only `error` is emitted: see EventTransportServerEvents. */
  on<EventKey extends keyof EventTransportServerEvents = keyof EventTransportServerEvents>(event: EventKey, callback: EventTransportServerEvents[EventKey]): void {
    if (event !== 'error') throw new Error(`EventTransportServer emits only "error", not "${String(event)}"`);
    this.errorListeners.add(callback as EventTransportServerEvents['error']);
  }

  /** The event transport this server consumes from. */
  unwrap<T>(): T {
    return this.transport as T;
  }

  private async handleMessage(message: IncomingMessage): Promise<void> {
    const context = new EventTransportContext(message);
    const handler = this.getHandlerByPattern(message.topic);
    if (!handler) {
      // Handlers are fixed when the app boots, so waiting cannot make one
      // appear; holding the message would stall its partition for every key
      // behind it. Subscribing to a topic nobody handles is a configuration
      // mistake, and this log says so.
      this.logger.error(`No @EventPattern handler for topic "${message.topic}"; skipped offset ${message.offset}`);
      return;
    }
    try {
      await this.runWithHooks(context, () => this.runHandler(handler, message, context));
    } catch (thrown) {
      // Nest's exception filters turn an exception into an error notification
      // carrying a plain object; keep it readable in logs.
      const error = thrown instanceof Error ? thrown : new Error(`handler for ${message.topic} failed: ${JSON.stringify(thrown)}`, { cause: thrown });
      for (const listener of this.errorListeners) listener(error, context);
      throw error;
    }
  }

  private async runHandler(handler: MessageHandler, message: IncomingMessage, context: EventTransportContext): Promise<void> {
    const result = this.transformToObservable(handler(decodePayload(message), context));
    await lastValueFrom(result, { defaultValue: undefined });
  }

  /** Calls Nest's processing hooks around the handler, as Server.handleEvent does. */
  private async runWithHooks(context: EventTransportContext, run: () => Promise<void>): Promise<void> {
    const transportId = this.transportId;
    try {
      await new Promise<void>((resolve, reject) => {
        this.onProcessingStartHook(transportId, context, () => {
          const done = run();
          done.then(resolve, reject);
          return done;
        });
      });
    } finally {
      this.onProcessingEndHook?.(transportId, context);
    }
  }

  private warnAboutUnreadPatterns(): void {
    const topics = new Set(this.options.topics);
    for (const [pattern, handler] of this.getHandlers()) {
      if (handler.isEventHandler && !topics.has(pattern)) {
        this.logger.warn(`@EventPattern("${pattern}") is not among the subscribed topics; it will not be called`);
      }
    }
  }
}

/**
 * The payload handed to a handler: JSON-parsed when the `content-type` header
 * is JSON (`application/json`, or a `+json` type such as CloudEvents
 * structured mode), with an empty value (a tombstone) as null; otherwise the
 * raw bytes. Invalid JSON throws, so the message is retried rather than lost.
 */
export function decodePayload(message: IncomingMessage): unknown {
  const contentType = Object.entries(message.headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType !== 'application/json' && !mediaType.endsWith('+json')) return message.value;
  if (message.value.length === 0) return null;
  return JSON.parse(message.value.toString('utf8')) as unknown;
}
