import { randomUUID } from 'node:crypto';
import { Client, type Pool, type QueryResult, type QueryResultRow } from 'pg';
import type { IncomingMessage, SubscriptionTarget } from '../event-transport';
import { describeError, type Handler, type TransportLog } from '../subscription-handler';

/** What a group member needs from its transport. */
export interface MemberContext {
  pool: Pool;
  connectionString: string;
  /** Quoted schema name, for SQL. */
  schema: string;
  /** Plain schema name: lock names and the LISTEN channel. */
  schemaName: string;
  clientId: string;
  pollIntervalMs: number;
  rebalanceIntervalMs: number;
  memberTimeoutMs: number;
  maxBatchSize: number;
  redeliveryDelayMs(attempt: number): number;
  log: TransportLog | undefined;
}

interface MessageRow {
  /** Not named "offset": ORDER BY would sort by this text column instead of the bigint. */
  offset_text: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  timestamp_ms: number;
}

const partitionKey = (topic: string, partition: number): string => `${partition}:${topic}`;

/**
 * One consumer of a consumer group: a subscription.
 *
 * Leases: the member holds a dedicated "session" connection. Owning a
 * partition means holding a session advisory lock on (schema, group, topic,
 * partition) on that connection, so at most one member reads a partition, and
 * when a process dies its connection dies and PostgreSQL frees its partitions
 * at once. Offsets are committed through the same connection, so a member
 * that lost its connection cannot commit over its successor's progress.
 *
 * Shares: every `rebalanceIntervalMs` the member heartbeats in
 * `group_members` (rows whose backend is gone, or whose heartbeat is older than
 * `memberTimeoutMs`, are dropped), releases the partitions it holds above
 * ceil(partitions / members) — after their handler in hand finished and was
 * committed — and tries to lock unowned ones up to that share.
 */
export class GroupMember {
  readonly memberId: string;
  private session: Session | undefined;
  private readonly workers = new Map<string, PartitionWorker>();
  /** Workers whose lease went with a dead session and whose handler is still running. */
  private readonly orphans = new Map<string, PartitionWorker>();
  private running = true;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly context: MemberContext,
    private readonly target: SubscriptionTarget,
    private readonly handler: Handler,
  ) {
    this.memberId = `${context.clientId}-${randomUUID()}`;
  }

  /** Connects, takes a first share of partitions and starts the rebalance loop. */
  async start(): Promise<void> {
    await this.connectSession();
    this.ticking = this.tick().catch((error: unknown) => this.warn('consumer group rebalance failed', error));
    await this.ticking;
    this.schedule();
  }

  /** Stops every partition at a message boundary, commits, and leaves the group. */
  stop(): Promise<void> {
    this.stopped ??= this.leave();
    return this.stopped;
  }

  private async leave(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking;
    const workers = [...this.workers.values()];
    this.workers.clear();
    for (const orphan of this.orphans.values()) orphan.abandon();
    await Promise.all(workers.map((worker) => worker.stop()));
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    // Leaving the table first lets the others count one member less on their next tick.
    await session.query(`DELETE FROM ${this.context.schema}.group_members WHERE group_id = $1 AND member_id = $2`, [this.target.groupId, this.memberId]).catch(() => undefined);
    await session.end().catch(() => undefined); // frees every lease
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((error: unknown) => this.warn('consumer group rebalance failed; trying again', error))
        .finally(() => this.schedule());
    }, this.context.rebalanceIntervalMs);
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    if (!this.session) await this.connectSession();
    const session = this.session;
    if (!session) return;
    const { schema } = this.context;
    const { groupId, topics } = this.target;

    await session.query(
      `INSERT INTO ${schema}.group_members (group_id, member_id, backend_pid, topics, heartbeat_at)
       VALUES ($1, $2, pg_backend_pid(), $3, now())
       ON CONFLICT (group_id, member_id) DO UPDATE
         SET backend_pid = excluded.backend_pid, topics = excluded.topics, heartbeat_at = excluded.heartbeat_at`,
      [groupId, this.memberId, topics],
    );
    await session.query(
      `DELETE FROM ${schema}.group_members
        WHERE group_id = $1
          AND (heartbeat_at < now() - make_interval(secs => $2) OR backend_pid NOT IN (SELECT pid FROM pg_stat_activity))`,
      [groupId, this.context.memberTimeoutMs / 1000],
    );
    const members = await session.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${schema}.group_members WHERE group_id = $1`, [groupId]);
    const partitions = await session.query<{ topic: string; partition: number }>(`SELECT topic, partition FROM ${schema}.partitions WHERE topic = ANY($1) ORDER BY topic, partition`, [topics]);
    const share = Math.ceil(partitions.rows.length / Math.max(1, members.rows[0]?.count ?? 1));

    // Above the fair share: give back idle partitions first, so a slow handler does not hold up the hand-over.
    const extras = [...this.workers.values()].sort((a, b) => Number(a.busy) - Number(b.busy)).slice(0, Math.max(0, this.workers.size - share));
    for (const worker of extras) {
      if (!this.running || this.session !== session) return;
      this.workers.delete(worker.key);
      await worker.stop();
      await session.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [this.leaseName(worker.topic, worker.partition)]);
    }

    for (const { topic, partition } of partitions.rows) {
      if (this.workers.size >= share || !this.running || this.session !== session) return;
      const key = partitionKey(topic, partition);
      if (this.workers.has(key) || this.orphans.has(key)) continue;
      const lease = this.leaseName(topic, partition);
      const locked = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [lease]);
      if (!locked.rows[0]?.locked) continue;
      try {
        const next = await this.startingOffset(session, topic, partition);
        this.workers.set(key, new PartitionWorker(topic, partition, next, session, this.context, this.target.groupId, this.handler));
      } catch (error) {
        await session.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lease]).catch(() => undefined);
        throw error;
      }
    }
  }

  /** The group's committed offset; a group new to the partition starts (and commits) at 0 or at the end. */
  private async startingOffset(session: Session, topic: string, partition: number): Promise<bigint> {
    const { schema } = this.context;
    const result = await session.query<{ next_offset: string }>(
      `WITH created AS (
         INSERT INTO ${schema}.group_offsets (group_id, topic, partition, next_offset)
         SELECT $1, $2, $3, CASE WHEN $4 THEN 0 ELSE p.next_offset END
           FROM ${schema}.partitions p WHERE p.topic = $2 AND p.partition = $3
         ON CONFLICT (group_id, topic, partition) DO NOTHING
         RETURNING next_offset
       )
       SELECT next_offset::text FROM created
       UNION ALL
       SELECT next_offset::text FROM ${schema}.group_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3`,
      [this.target.groupId, topic, partition, this.target.fromBeginning ?? false],
    );
    const row = result.rows[0];
    if (!row) throw new Error(`partition ${partition} of topic ${topic} has no counter row`);
    return BigInt(row.next_offset);
  }

  private leaseName(topic: string, partition: number): string {
    return `gancho-transport:${this.context.schemaName}:${this.target.groupId}:${partitionKey(topic, partition)}`;
  }

  private async connectSession(): Promise<void> {
    const client = new Client({
      connectionString: this.context.connectionString,
      application_name: `${this.context.clientId}:member`.slice(0, 63),
    });
    const session = new Session(client);
    client.on('error', (error) => this.sessionLost(session, error));
    client.on('end', () => this.sessionLost(session, new Error('connection ended')));
    client.on('notification', ({ payload }) => this.wake(payload));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.context.schema}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (!this.running) {
      await client.end().catch(() => undefined);
      return;
    }
    this.session = session;
  }

  /** The leases died with the connection: other members may take the partitions now. */
  private sessionLost(session: Session, error: unknown): void {
    if (this.session !== session) return;
    this.session = undefined;
    if (this.running) {
      this.warn('consumer session connection lost; its partitions are free for other members', error);
    }
    for (const [key, worker] of this.workers) {
      worker.abandon();
      this.orphans.set(key, worker);
      void worker.done.finally(() => {
        if (this.orphans.get(key) === worker) this.orphans.delete(key);
      });
    }
    this.workers.clear();
    void session.end().catch(() => undefined);
  }

  /** A publish committed on `partition:topic`. */
  private wake(payload: string | undefined): void {
    if (payload) this.workers.get(payload)?.wake();
  }

  private warn(message: string, error: unknown): void {
    this.context.log?.('warn', message, { groupId: this.target.groupId, memberId: this.memberId, error: describeError(error) });
  }
}

/**
 * A member's own connection. Its queries (heartbeats, leases, commits of every
 * partition) go one at a time: pg deprecates queueing on a busy client.
 */
class Session {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly client: Client) {}

  query<Row extends QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<Row>> {
    const result = this.tail.then(() => this.client.query<Row>(text, values));
    this.tail = result.catch(() => undefined);
    return result;
  }

  end(): Promise<void> {
    return this.client.end();
  }
}

/** Reads one partition in offset order and hands its messages to the handler, committing after each success. */
class PartitionWorker {
  readonly key: string;
  readonly done: Promise<void>;
  /** True while a handler runs. */
  busy = false;
  private stopping = false;
  private wakeRequested = false;
  private endPause: (() => void) | undefined;
  private endIdle: (() => void) | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private next: bigint,
    private readonly session: Session,
    private readonly context: MemberContext,
    private readonly groupId: string,
    private readonly handler: Handler,
  ) {
    this.key = partitionKey(topic, partition);
    this.done = this.run();
  }

  wake(): void {
    this.wakeRequested = true;
    this.endIdle?.();
  }

  /** Finishes the handler in hand (and its commit), then stops. */
  stop(): Promise<void> {
    this.abandon();
    return this.done;
  }

  /** Stops at the next message boundary without waiting. */
  abandon(): void {
    this.stopping = true;
    this.endPause?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      this.wakeRequested = false;
      let messages: IncomingMessage[];
      try {
        messages = await this.read();
      } catch (error) {
        failures += 1;
        const retryInMs = this.context.redeliveryDelayMs(failures);
        this.log('warn', 'reading the event log failed', { error: describeError(error), retryInMs });
        await this.pause(retryInMs, false);
        continue;
      }
      if (messages.length === 0) {
        // NOTIFY ends the wait early; the poll covers a missed notification.
        await this.pause(this.context.pollIntervalMs, true);
        continue;
      }
      const failed = await this.deliver(messages);
      if (!failed) {
        failures = 0;
        continue;
      }
      failures += 1;
      const retryInMs = this.context.redeliveryDelayMs(failures);
      this.log('error', 'event handler failed; the message will be delivered again', {
        offset: failed.message.offset,
        attempt: failures,
        retryInMs,
        error: describeError(failed.error),
      });
      await this.pause(retryInMs, false);
    }
  }

  /** Hands messages over in order; returns the first that failed (it and all after it come again). */
  private async deliver(messages: IncomingMessage[]): Promise<{ message: IncomingMessage; error: unknown } | undefined> {
    const handler = this.handler;
    if (handler.kind === 'batch') {
      const first = messages[0];
      const last = messages.at(-1);
      if (!first || !last) return undefined;
      try {
        this.busy = true;
        await handler.handleBatch(messages);
        await this.commit(BigInt(last.offset) + 1n);
      } catch (error) {
        return { message: first, error };
      } finally {
        this.busy = false;
      }
      return undefined;
    }
    for (const message of messages) {
      if (this.stopping) return undefined;
      try {
        this.busy = true;
        await handler.handle(message);
        await this.commit(BigInt(message.offset) + 1n);
      } catch (error) {
        return { message, error };
      } finally {
        this.busy = false;
      }
    }
    return undefined;
  }

  private async read(): Promise<IncomingMessage[]> {
    const { rows } = await this.context.pool.query<MessageRow>(
      `SELECT "offset"::text AS offset_text, key, value, headers, floor(extract(epoch FROM "timestamp") * 1000)::float8 AS timestamp_ms
         FROM ${this.context.schema}.messages
        WHERE topic = $1 AND partition = $2 AND "offset" >= $3
        ORDER BY "offset"
        LIMIT $4`,
      [this.topic, this.partition, this.next.toString(), this.context.maxBatchSize],
    );
    return rows.map((row) => ({
      topic: this.topic,
      partition: this.partition,
      offset: row.offset_text,
      key: row.key,
      value: row.value,
      headers: row.headers,
      timestamp: row.timestamp_ms,
    }));
  }

  /**
   * Through the session connection that holds the lease: once that connection
   * is gone, so is the right to commit.
   */
  private async commit(next: bigint): Promise<void> {
    await this.session.query(
      `UPDATE ${this.context.schema}.group_offsets SET next_offset = $4, committed_at = now()
        WHERE group_id = $1 AND topic = $2 AND partition = $3`,
      [this.groupId, this.topic, this.partition, next.toString()],
    );
    this.next = next;
  }

  /** Waits `ms`; stopping ends the wait, and so does a wake-up when `wakeable`. */
  private pause(ms: number, wakeable: boolean): Promise<void> {
    if (this.stopping || (wakeable && this.wakeRequested)) return Promise.resolve();
    return new Promise((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        this.endPause = undefined;
        this.endIdle = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.endPause = end;
      if (wakeable) this.endIdle = end;
    });
  }

  private log(level: 'error' | 'warn', message: string, extra: Record<string, unknown>): void {
    this.context.log?.(level, message, { groupId: this.groupId, topic: this.topic, partition: this.partition, ...extra });
  }
}
