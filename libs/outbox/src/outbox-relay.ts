import { Client } from 'pg';
import type { StoredEvent } from '@gancho/event-store';
import type { EventTransport, OutgoingMessage } from '@gancho/messaging';
import { extractTraceContext, injectTraceContext, recordError, startSpan, withActiveSpan, type Span } from '@gancho/telemetry';
import { ROOT_CONTEXT } from '@opentelemetry/api';

/** What the relay needs of an event store: read in commit-safe order, and remember how far it got. */
export interface OutboxSource {
  readAll(options: { after: bigint; limit: number }): Promise<StoredEvent[]>;
  readCheckpoint(name: string): Promise<bigint | undefined>;
  storeCheckpoint(name: string, position: bigint): Promise<void>;
  /** The highest global position stored, committed or not; lets `lag()` count events behind. Optional. */
  headPosition?(): Promise<bigint>;
  /** When set, only notifications with this payload wake the relay (another service's appends on the same channel do not). */
  readonly notifyPayload?: string;
}

/** How far the relay is behind its event store. */
export interface OutboxLag {
  /** Age of the oldest event not yet published; 0 when caught up. */
  seconds: number;
  /** Positions between the checkpoint and the head (undefined when the source cannot tell the head). */
  events: number | undefined;
}

export interface OutboxRelayLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface OutboxRelayOptions {
  /** Names the checkpoint and the leadership lock: one active relay per name. */
  name: string;
  topic: string;
  source: OutboxSource;
  transport: EventTransport;
  /**
   * The message for a stored event, or undefined for events that are not
   * published; `topic` sends it elsewhere than `topic` above (one relay, one
   * read of the store, for a service's several outgoing topics).
   */
  toMessage(event: StoredEvent): RelayedMessage | undefined;
  /** For the leadership lock and LISTEN; a connection of its own, outside any pool. */
  databaseUrl: string;
  /** Channel the event store notifies on after an append; wakes the relay at once. */
  notifyChannel?: string;
  batchSize?: number;
  /** How often an idle relay looks anyway (a notification can be missed while reconnecting). */
  idlePollMs?: number;
  log?: OutboxRelayLog;
}

/** A message to publish, and the topic when it is not the relay's own. */
export type RelayedMessage = OutgoingMessage & { topic?: string };

const silent: OutboxRelayLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Publishes every stored event, in global-position order, and checkpoints
 * after each published batch. A crash between publishing and checkpointing
 * publishes that batch again (at-least-once; consumers dedupe by event id),
 * and nothing is ever skipped: the source returns only events whose
 * transactions committed, never past a gap, and never a rolled-back one.
 *
 * Several replicas may run it: a session advisory lock elects one leader;
 * the others wait, and take over when its connection dies.
 */
export class OutboxRelay {
  private lockClient: Client | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly log: OutboxRelayLog;
  private published = 0n;
  /** The checkpoint this relay last stored; only the leader writes it, so it need not be read back while leading. */
  private checkpoint: bigint | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    this.log = options.log ?? silent;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.releaseLeadership();
  }

  /** Events published by this relay since it started. */
  get publishedCount(): bigint {
    return this.published;
  }

  /** Publishes at most one batch; returns how many events it published. */
  async publishBatch(): Promise<number> {
    const { source, transport, topic, name } = this.options;
    const after = this.checkpoint ?? (await source.readCheckpoint(name)) ?? 0n;
    const events = await source.readAll({ after, limit: this.options.batchSize ?? 500 });
    const last = events.at(-1);
    if (!last) return 0;
    const traced = events.flatMap((event) => {
      const message = this.options.toMessage(event);
      return message ? [this.traced(event, message)] : [];
    });
    const spans = traced.map((t) => t.span);
    try {
      // Consecutive messages for the same topic go together, so each topic keeps the store's order.
      for (const run of runsByTopic(traced.map((t) => t.message), topic)) await transport.publish(run.topic, run.messages);
      await source.storeCheckpoint(name, last.globalPosition);
      this.checkpoint = last.globalPosition;
    } catch (error) {
      this.checkpoint = undefined;
      for (const span of spans) recordError(span, error);
      throw error;
    } finally {
      for (const span of spans) span.end();
    }
    this.published += BigInt(events.length);
    return events.length;
  }

  /**
   * How far publishing is behind: the age of the oldest event past the
   * checkpoint, and (when the source knows its head) how many positions.
   * Reads the shared checkpoint, so every replica can answer, leader or not.
   */
  async lag(now: Date = new Date()): Promise<OutboxLag> {
    const { source, name } = this.options;
    const checkpoint = (await source.readCheckpoint(name)) ?? 0n;
    const [oldest] = await source.readAll({ after: checkpoint, limit: 1 });
    const head = await source.headPosition?.();
    return {
      seconds: oldest ? Math.max(0, (now.getTime() - oldest.recordedAt.getTime()) / 1000) : 0,
      events: head === undefined ? undefined : Number(head > checkpoint ? head - checkpoint : 0n),
    };
  }

  get name(): string {
    return this.options.name;
  }

  /**
   * One `outbox.publish` span per event, the child of the trace context
   * stored with it (the command that recorded it), and the message carries
   * that span's context on: the transport's producer span becomes its child.
   */
  private traced(event: StoredEvent, message: RelayedMessage): { message: RelayedMessage; span: Span } {
    const span = startSpan(
      'outbox.publish',
      { 'gancho.outbox.relay': this.options.name, 'messaging.destination.name': this.options.topic, 'gancho.event.id': event.eventId, 'gancho.event.type': event.type },
      { parent: extractTraceContext(message.headers, ROOT_CONTEXT) },
    );
    const headers = withActiveSpan(span, () => injectTraceContext({ ...(message.headers ?? {}) }), ROOT_CONTEXT);
    return { message: { ...message, headers }, span };
  }

  private async run(): Promise<void> {
    let backoffMs = 250;
    while (this.running) {
      try {
        if (!(await this.holdLeadership())) {
          await this.sleep(this.options.idlePollMs ?? 1000);
          continue;
        }
        const count = await this.publishBatch();
        backoffMs = 250;
        if (count === 0) await this.sleep(this.options.idlePollMs ?? 1000);
      } catch (error) {
        this.log.error(`outbox relay ${this.options.name}: ${error instanceof Error ? error.message : String(error)}; retrying in ${backoffMs} ms`);
        await this.sleep(backoffMs);
        // Short ceiling: once the broker or database is back, publishing resumes within seconds.
        backoffMs = Math.min(backoffMs * 2, 5_000);
      }
    }
  }

  /** True while this process holds the relay's lock; tries to take it otherwise. */
  private async holdLeadership(): Promise<boolean> {
    if (this.lockClient) return true;
    const client = new Client({ connectionString: this.options.databaseUrl, application_name: `outbox-relay:${this.options.name}` });
    client.on('error', (error) => {
      // The lock lives and dies with this connection.
      this.log.warn(`outbox relay ${this.options.name} lost its lock connection: ${error.message}`);
      if (this.lockClient === client) {
        this.lockClient = undefined;
        this.checkpoint = undefined;
      }
    });
    await client.connect();
    const [row] = (await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [`outbox:${this.options.name}`])).rows;
    if (!row?.locked) {
      await client.end();
      return false;
    }
    if (this.options.notifyChannel) {
      const ownPayload = this.options.source.notifyPayload;
      client.on('notification', (notification) => {
        if (ownPayload === undefined || notification.payload === ownPayload) this.wake?.();
      });
      await client.query(`LISTEN "${this.options.notifyChannel}"`);
    }
    this.lockClient = client;
    // Another relay may have published while this one was not leading.
    this.checkpoint = undefined;
    this.log.info(`outbox relay ${this.options.name} is the active publisher to ${this.options.topic}`);
    return true;
  }

  private async releaseLeadership(): Promise<void> {
    const client = this.lockClient;
    this.lockClient = undefined;
    this.checkpoint = undefined;
    await client?.end().catch(() => undefined);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** Splits messages into runs of the same topic, in order, without the routing field. */
function runsByTopic(messages: readonly RelayedMessage[], defaultTopic: string): { topic: string; messages: OutgoingMessage[] }[] {
  const runs: { topic: string; messages: OutgoingMessage[] }[] = [];
  for (const { topic = defaultTopic, ...message } of messages) {
    const current = runs.at(-1);
    if (current?.topic === topic) current.messages.push(message);
    else runs.push({ topic, messages: [message] });
  }
  return runs;
}
