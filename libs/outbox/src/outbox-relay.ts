import { Client } from 'pg';
import type { ReadPage, StoredEvent } from '@gancho/event-store';
import type { EventTransport, OutgoingMessage } from '@gancho/messaging';
import { extractTraceContext, injectTraceContext, recordError, startSpan, withActiveSpan, type Span } from '@gancho/telemetry';
import { ROOT_CONTEXT } from '@opentelemetry/api';

/** What the relay needs of an event store: read in commit-safe order, and remember how far it got. */
export interface OutboxSource {
  /** Events after the cursor, only of ended transactions; `heldBack` when committed ones are waiting behind an open older transaction. */
  readPage(options: { after: bigint; limit: number }): Promise<ReadPage>;
  readCheckpoint(name: string): Promise<bigint | undefined>;
  storeCheckpoint(name: string, position: bigint): Promise<void>;
  /** The highest global position stored, committed or not; lets `lag()` count events behind. Optional. */
  headPosition?(): Promise<bigint>;
}

/** How far the relay is behind its event store. */
export interface OutboxLag {
  /** Age of the oldest event not yet published; 0 when caught up. */
  seconds: number;
  /** Positions between the checkpoint and the head (undefined when the source cannot tell the head). */
  events: number | undefined;
}

/** A NestJS `Logger` fits. */
export interface OutboxRelayLog {
  log(message: string): void;
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
  /**
   * The notification the event store sends on commit of an append (its
   * `notifications`): wakes the relay at once, and only for its own store —
   * other services' appends on the same channel carry another payload.
   */
  wakeOn?: { channel: string; payload: string };
  batchSize?: number;
  /**
   * How often an idle leader looks anyway. With `wakeOn` a notification can
   * only be missed while the listening connection is down, and a new
   * connection reads at once, so this is a safety net, not the latency.
   * Default 1 s without `wakeOn`, 30 s with it.
   */
  idlePollMs?: number;
  /** How often a relay that is not the leader tries to take over (default 1 s): the fail-over time. */
  standbyPollMs?: number;
  /**
   * Checkpoints are stored at most this often (default 1 s) and when the
   * relay stops: a crash republishes at most this long's events, which
   * consumers drop by event id, and a quiet flow of one event per batch
   * costs no write per event. 0 stores after every batch.
   */
  checkpointIntervalMs?: number;
  log?: OutboxRelayLog;
}

/** A message to publish, and the topic when it is not the relay's own. */
export type RelayedMessage = OutgoingMessage & { topic?: string };

const silent: OutboxRelayLog = { log: () => undefined, warn: () => undefined, error: () => undefined };

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
  /** Where this relay has published up to; only the leader moves it, so it need not be read back while leading. */
  private checkpoint: bigint | undefined;
  /** The checkpoint as last stored, and when. */
  private storedCheckpoint: bigint | undefined;
  private storedAt = 0;
  /** A notification arrived since the last read began: what it announced may not be visible yet (an older transaction still open). */
  private notified = false;
  /** The last read saw committed events held back by an open older transaction. */
  private heldBack = false;

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
    await this.flushCheckpoint().catch((error: unknown) => this.log.warn(`outbox relay ${this.options.name} could not store its checkpoint on stop: ${describe(error)}`));
    await this.releaseLeadership();
  }

  private get batchSize(): number {
    return this.options.batchSize ?? 500;
  }

  /** Events published by this relay since it started. */
  get publishedCount(): bigint {
    return this.published;
  }

  /** Publishes at most one batch; returns how many events it published. */
  async publishBatch(): Promise<number> {
    const { source, transport, topic } = this.options;
    this.notified = false;
    const after = this.checkpoint ?? (await this.loadCheckpoint());
    const page = await source.readPage({ after, limit: this.batchSize });
    this.heldBack = page.heldBack;
    const events = page.events;
    const last = events.at(-1);
    if (!last) return 0;
    const traced = events.flatMap((event) => {
      const message = this.options.toMessage(event);
      return message ? [this.traced(event, message)] : [];
    });
    const spans = traced.map((t) => t.span);
    try {
      // Consecutive messages for the same topic go together, so each topic keeps the store's order.
      for (const run of runsByTopic(
        traced.map((t) => t.message),
        topic,
      ))
        await transport.publish(run.topic, run.messages);
      this.checkpoint = last.globalPosition;
      const intervalMs = this.options.checkpointIntervalMs ?? 1000;
      if (Date.now() - this.storedAt >= intervalMs) await this.flushCheckpoint();
    } catch (error) {
      this.checkpoint = undefined;
      this.storedCheckpoint = undefined;
      for (const span of spans) recordError(span, error);
      throw error;
    } finally {
      for (const span of spans) span.end();
    }
    this.published += BigInt(events.length);
    return events.length;
  }

  /** Stores the checkpoint if it moved since it was last stored. */
  private async flushCheckpoint(): Promise<void> {
    const position = this.checkpoint;
    if (position === undefined || position === this.storedCheckpoint) return;
    await this.options.source.storeCheckpoint(this.options.name, position);
    this.storedCheckpoint = position;
    this.storedAt = Date.now();
  }

  private async loadCheckpoint(): Promise<bigint> {
    const stored = (await this.options.source.readCheckpoint(this.options.name)) ?? 0n;
    this.checkpoint = stored;
    this.storedCheckpoint = stored;
    this.storedAt = Date.now();
    return stored;
  }

  /**
   * How far publishing is behind: the age of the oldest event past the
   * checkpoint, and (when the source knows its head) how many positions.
   * Reads the shared checkpoint, so every replica can answer, leader or not.
   */
  async lag(now: Date = new Date()): Promise<OutboxLag> {
    const { source, name } = this.options;
    // The leader knows how far it published; others read the stored checkpoint (at most one checkpoint interval behind).
    const checkpoint = this.checkpoint ?? (await source.readCheckpoint(name)) ?? 0n;
    const [oldest] = (await source.readPage({ after: checkpoint, limit: 1 })).events;
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
    // After a notification whose events were not visible yet: look again soon, sooner than the idle poll.
    let recheckMs = 1;
    const idlePollMs = this.options.idlePollMs ?? (this.options.wakeOn ? 30_000 : 1000);
    while (this.running) {
      try {
        if (!(await this.holdLeadership())) {
          await this.sleep(this.options.standbyPollMs ?? 1000);
          continue;
        }
        const count = await this.publishBatch();
        backoffMs = 250;
        // A full page: more may follow. Announced while reading: look again now.
        if (count >= this.batchSize || this.notified) continue;
        if (this.heldBack) {
          // Committed events wait behind an older open transaction (of any service: the horizon is the cluster's); it usually ends within milliseconds.
          await this.sleep(recheckMs);
          recheckMs = Math.min(recheckMs * 2, 100);
          continue;
        }
        recheckMs = 1;
        if (this.checkpoint !== this.storedCheckpoint) {
          // Quiet now: store the checkpoint when its interval is up (sooner if more arrives first).
          const dueInMs = this.storedAt + (this.options.checkpointIntervalMs ?? 1000) - Date.now();
          if (dueInMs > 0) {
            await this.sleep(dueInMs);
            continue;
          }
          await this.flushCheckpoint();
        }
        await this.sleep(idlePollMs);
      } catch (error) {
        this.log.error(`outbox relay ${this.options.name}: ${error instanceof Error ? error.message : String(error)}; retrying in ${backoffMs} ms`);
        await this.sleep(backoffMs);
        // Short ceiling: once the broker or database is back, publishing resumes within seconds.
        backoffMs = Math.min(backoffMs * 2, 5_000);
        recheckMs = 1;
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
        this.storedCheckpoint = undefined;
        // Take the lock again now rather than after a long idle sleep.
        this.wake?.();
      }
    });
    await client.connect();
    const [row] = (await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [`outbox:${this.options.name}`])).rows;
    if (!row?.locked) {
      await client.end();
      return false;
    }
    const wakeOn = this.options.wakeOn;
    if (wakeOn) {
      client.on('notification', (notification) => {
        if (notification.channel !== wakeOn.channel || notification.payload !== wakeOn.payload) return;
        this.notified = true;
        this.wake?.();
      });
      await client.query(`LISTEN "${wakeOn.channel}"`);
    }
    this.lockClient = client;
    // Another relay may have published while this one was not leading.
    this.checkpoint = undefined;
    this.storedCheckpoint = undefined;
    this.log.log(`outbox relay ${this.options.name} is the active publisher to ${this.options.topic}`);
    return true;
  }

  private async releaseLeadership(): Promise<void> {
    const client = this.lockClient;
    this.lockClient = undefined;
    this.checkpoint = undefined;
    this.storedCheckpoint = undefined;
    await client?.end().catch(() => undefined);
  }

  private sleep(ms: number): Promise<void> {
    // Stopped while the loop was busy: its wake-up came before this sleep, so do not start one (an idle sleep is 30 s).
    if (!this.running) return Promise.resolve();
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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
