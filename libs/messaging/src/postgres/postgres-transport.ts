import { Pool, type PoolClient } from 'pg';
import type { EventTransport, OutgoingMessage, PartitionLag, SubscribeOptions, Subscription, TopicSpec } from '../event-transport';
import { sendTraced, traceHandler } from '../tracing';
import { answerWithin, backoffDelayMs, type BackoffMs } from '../transport-timing';
import { GroupMember, type MemberContext } from './group-member';
import { handlerOf } from '../subscription-handler';
import { partitionForKey } from './partitioner';
import { quoteIdentifier, schemaStatements } from './schema';

export interface PostgresTransportOptions {
  connectionString: string;
  /** Schema of the log, shared by every service on the database. Default `gancho_transport`. */
  schema?: string;
  /** Names this process's connections (`application_name`) and consumer members. */
  clientId: string;
  /**
   * How often an idle partition re-reads in case a notification was missed
   * (only while its listening connection was down, and a new connection
   * reads at once). Default 10 s: an idle consumer costs almost nothing.
   */
  pollIntervalMs?: number;
  /** Partitions of a topic whose spec names none. Default 8. */
  defaultPartitions?: number;
  /**
   * How often a consumer heartbeats and re-balances partitions in its group:
   * how soon a new member gets its share, and a crashed member's partitions
   * are taken over (its backend is gone at once). Default 2 s.
   */
  rebalanceIntervalMs?: number;
  /** A member that has not heartbeaten for this long no longer counts for fair shares. Default 30 s. */
  memberTimeoutMs?: number;
  /** Most messages read (and given to `handleBatch`) at once. Default 100. */
  maxBatchSize?: number;
  /** Connections for publishing and reading; each subscription also holds one of its own. Default 5. */
  poolSize?: number;
  /** Bound on how long a readiness ping may take. Default 3000 ms. */
  pingTimeoutMs?: number;
  /** Same meaning and defaults as the Kafka adapter's: 200 ms doubling up to 30 s per consecutive failure. */
  redeliveryBackoffMs?: BackoffMs;
  /** Receives consumer warnings (lost connection, failed rebalance) and handler failures. */
  log?: (level: 'error' | 'warn', message: string, extra: Record<string, unknown>) => void;
}

/**
 * PostgreSQL adapter of the event transport: a partitioned log in tables, for
 * running Gancho with PostgreSQL only. Same promises as the Kafka adapter.
 *
 * - Partitions: `partitionForKey` (Kafka's murmur2), so one key, one partition.
 * - Offsets: each publish is one transaction that locks the (topic, partition)
 *   counter rows it writes to (UPDATE ... RETURNING, in partition order, so no
 *   deadlocks), takes dense offsets from them and commits. The next publisher
 *   of that partition gets the lock only after this commit, so offsets become
 *   visible in order: a reader at offset n never skips a lower offset that
 *   commits later. A rolled-back publish gives its offsets back.
 * - Wake-ups: the publish transaction sends `pg_notify(schema, 'partition:topic')`,
 *   delivered at commit; consumers LISTEN on their session connection and also
 *   poll every `pollIntervalMs` (a safety net, not the latency).
 * - Consumer groups and leases: see `GroupMember`.
 * - Compaction: a compacted topic is stored and read in full (consumers see
 *   every message, in order); nothing deletes superseded messages yet, so such
 *   a topic grows with every update. Fine for a laptop; a background compactor
 *   would delete messages whose key has a later one below every group's offset.
 * - Needs session-level connections (no transaction-pooling PgBouncer), since
 *   leases are session advisory locks.
 */
export class PostgresTransport implements EventTransport {
  private readonly pool: Pool;
  private readonly schemaName: string;
  private readonly schema: string;
  private schemaReady: Promise<void> | undefined;
  /** Partition counts never change after a topic is created. */
  private readonly partitionCounts = new Map<string, number>();
  private readonly members = new Set<GroupMember>();
  private closing: Promise<void> | undefined;

  constructor(private readonly options: PostgresTransportOptions) {
    this.schemaName = options.schema ?? 'gancho_transport';
    this.schema = quoteIdentifier(this.schemaName);
    this.pool = new Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 5,
      application_name: options.clientId.slice(0, 63),
      connectionTimeoutMillis: 10_000,
    });
    // An idle connection that dies (a restart, pg_terminate_backend) is dropped from the pool; say so.
    this.pool.on('error', (error) => options.log?.('warn', 'idle PostgreSQL connection failed', { error: error.message }));
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    await this.ready();
    await this.inTransaction(async (client) => {
      for (const spec of topics) {
        // An existing topic keeps its partitions and flag, as in Kafka.
        await client.query(`INSERT INTO ${this.schema}.topics (name, partitions, compacted) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, [
          spec.topic,
          spec.partitions ?? this.options.defaultPartitions ?? 8,
          spec.compacted ?? false,
        ]);
        await client.query(
          `INSERT INTO ${this.schema}.partitions (topic, partition)
           SELECT t.name, p FROM ${this.schema}.topics t, generate_series(0, t.partitions - 1) p WHERE t.name = $1
           ON CONFLICT DO NOTHING`,
          [spec.topic],
        );
      }
    });
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.ready();
    const partitions = await this.partitionCount(topic);
    await sendTraced('postgresql', topic, messages, (traced) => this.append(topic, partitions, traced));
  }

  /** The group's committed offsets against each partition's counter, in one query. */
  async consumerLag(groupId: string, topics: string[]): Promise<PartitionLag[]> {
    await this.ready();
    const { rows } = await this.pool.query<{ topic: string; partition: number; committed: string | null; end_offset: string; lag: string }>(
      `SELECT p.topic, p.partition, g.next_offset::text AS committed, p.next_offset::text AS end_offset,
              greatest(p.next_offset - coalesce(g.next_offset, 0), 0)::text AS lag
         FROM ${this.schema}.partitions p
         LEFT JOIN ${this.schema}.group_offsets g ON g.group_id = $1 AND g.topic = p.topic AND g.partition = p.partition
        WHERE p.topic = ANY($2)
        ORDER BY p.topic, p.partition`,
      [groupId, topics],
    );
    return rows.map((row) => ({ topic: row.topic, partition: row.partition, lag: Number(row.lag), committedOffset: row.committed, endOffset: row.end_offset }));
  }

  private async append(topic: string, partitions: number, messages: OutgoingMessage[]): Promise<void> {
    const byPartition = new Map<number, OutgoingMessage[]>();
    for (const message of messages) {
      const partition = partitionForKey(message.key, partitions);
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), message]);
    }
    await this.inTransaction(async (client) => {
      // Ascending partition order: two publishers never wait on each other's counters in a cycle.
      for (const [partition, batch] of [...byPartition].sort(([a], [b]) => a - b)) {
        const counter = await client.query<{ first: string }>(
          `UPDATE ${this.schema}.partitions SET next_offset = next_offset + $3
            WHERE topic = $1 AND partition = $2
            RETURNING (next_offset - $3)::text AS first`,
          [topic, partition, batch.length],
        );
        const first = counter.rows[0]?.first;
        if (first === undefined) throw new Error(`topic ${topic} has no partition ${partition}`);
        await client.query(
          `INSERT INTO ${this.schema}.messages (topic, partition, "offset", key, value, headers)
           SELECT $1, $2, $3::bigint + m.n - 1, m.key, m.value, m.headers
             FROM unnest($4::text[], $5::bytea[], $6::jsonb[]) WITH ORDINALITY AS m(key, value, headers, n)`,
          [topic, partition, first, batch.map((m) => m.key), batch.map((m) => (typeof m.value === 'string' ? Buffer.from(m.value, 'utf8') : m.value)), batch.map((m) => JSON.stringify(m.headers ?? {}))],
        );
        await client.query('SELECT pg_notify($1, $2)', [this.schemaName, `${partition}:${topic}`]);
      }
    });
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const handler = traceHandler('postgresql', options.groupId, handlerOf(options));
    if (this.closing) throw new Error('the transport is closed');
    await this.ready();
    const member = new GroupMember(this.memberContext(), { groupId: options.groupId, topics: options.topics, fromBeginning: options.fromBeginning ?? false }, handler);
    await member.start();
    this.members.add(member);
    return {
      stop: async () => {
        await member.stop();
        this.members.delete(member);
      },
    };
  }

  async ping(): Promise<void> {
    await answerWithin('PostgreSQL', this.options.pingTimeoutMs ?? 3000, this.pool.query('SELECT 1'));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.members].map((member) => member.stop()));
      this.members.clear();
      await this.pool.end();
    })();
    return this.closing;
  }

  /** Creates the schema once per process; the advisory lock serialises services starting together. */
  private ready(): Promise<void> {
    this.schemaReady ??= this.inTransaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`gancho-transport-schema:${this.schemaName}`]);
      for (const statement of schemaStatements(this.schemaName)) await client.query(statement);
    }).catch((error: unknown) => {
      this.schemaReady = undefined;
      throw error;
    });
    return this.schemaReady;
  }

  private async partitionCount(topic: string): Promise<number> {
    const known = this.partitionCounts.get(topic);
    if (known !== undefined) return known;
    const { rows } = await this.pool.query<{ partitions: number }>(`SELECT partitions FROM ${this.schema}.topics WHERE name = $1`, [topic]);
    const partitions = rows[0]?.partitions;
    if (partitions === undefined) throw new Error(`unknown topic ${topic}: create it with ensureTopics first`);
    this.partitionCounts.set(topic, partitions);
    return partitions;
  }

  private async inTransaction(work: (client: PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      // A connection that cannot even roll back is discarded, not returned to the pool.
      broken = await client.query('ROLLBACK').then(
        () => false,
        () => true,
      );
      throw error;
    } finally {
      client.release(broken);
    }
  }

  private memberContext(): MemberContext {
    const backoff = this.options.redeliveryBackoffMs;
    return {
      pool: this.pool,
      connectionString: this.options.connectionString,
      schema: this.schema,
      schemaName: this.schemaName,
      clientId: this.options.clientId,
      pollIntervalMs: this.options.pollIntervalMs ?? 10_000,
      rebalanceIntervalMs: this.options.rebalanceIntervalMs ?? 2_000,
      memberTimeoutMs: this.options.memberTimeoutMs ?? 30_000,
      maxBatchSize: this.options.maxBatchSize ?? 100,
      redeliveryDelayMs: (attempt) => backoffDelayMs(attempt, backoff),
      log: this.options.log,
    };
  }
}
