import { createHash } from 'node:crypto';
import { QueryFailedError, type DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { DuplicateEventIdError, StreamVersionConflictError } from './errors';
import type { AppendOptions, AppendResult, EventMetadata, ExpectedVersion, GatedAppendOptions, GatedAppendResult, NewEvent, ReadAllOptions, ReadPage, ReadOptions, ReadStreamOptions, SqlPart, StoredEvent } from './types';

/**
 * Every append notifies this channel, on commit, with the schema (service) it
 * wrote to, so a relay can poll `readAll` at once instead of on its next tick.
 */
export const EVENTS_NOTIFY_CHANNEL = 'gancho_events';

/**
 * The notifications of appends made through `dataSource`: the channel, and
 * the service's schema (which `current_schema()` names in the statement) as
 * the payload, so a relay wakes only for its own service's appends when
 * several services share one database; `suffix` tells apart another outbox
 * of the same schema (delivery's attempt rows). Throws when the data source
 * names no schema: a relay without a payload filter would wake for every
 * service's appends.
 */
export function appendNotifications(dataSource: DataSource, suffix?: string): { channel: string; payload: string } {
  const options = dataSource.options;
  const schema = 'schema' in options && typeof options.schema === 'string' ? options.schema : undefined;
  if (schema === undefined) throw new Error('append notifications: the data source names no schema, so appends cannot be told apart');
  return { channel: EVENTS_NOTIFY_CHANNEL, payload: suffix ? `${schema}.${suffix}` : schema };
}

interface EventRow {
  global_position: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  recorded_at: Date;
}

const eventColumns = 'global_position, event_id, stream_id, stream_version, type, data, metadata, recorded_at';

/**
 * SQL that is true when the append writes its events: a write passed
 * `alongside` it puts this in its WHERE, so it commits exactly when the
 * events do.
 */
export const WHEN_APPENDED = 'EXISTS (SELECT 1 FROM appended)';

/** The pg pool under TypeORM's PostgreSQL driver: named (prepared) statements, without a query runner per statement. */
interface PgPool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * An append-only event log in the service's own schema (tables from
 * `CreateEventStore1764300000000`).
 *
 * Ordering of `readAll`: PostgreSQL hands out `global_position` when a row is
 * inserted, but transactions commit in another order, so a reader that follows
 * positions alone could pass position 7 (committed) while position 6 is still
 * in flight and skip it forever. Every event records its transaction id, and
 * `readAll` returns only events of transactions older than the oldest one
 * still running (`pg_snapshot_xmin(pg_current_snapshot())`): that set can no
 * longer grow. It walks them in (transaction id, position) order, and the
 * cursor is the position of the last event handled (its transaction id is
 * looked up), as Beckett and Emmett do. Within one transaction that is
 * position order; across transactions it is the order of their ids, which is
 * usually but not always position order.
 *
 * Trade-off: the horizon is cluster-wide, so any write transaction left open
 * on the server (in any schema or database) holds every reader back until it
 * ends. Keep transactions short; nothing is lost, only delayed.
 */
export class PostgresEventStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * What a relay listens to so that it wakes for this store's appends only:
   * the channel and this store's payload (see `appendNotifications`).
   */
  get notifications(): { channel: string; payload: string } {
    return appendNotifications(this.dataSource);
  }

  /**
   * Appends events to a stream if it is still at `expectedVersion`, and the
   * caller's `alongside` writes with them, in ONE statement (one round trip):
   * on a pooled connection, where it is its own transaction, or in the
   * caller's transaction (`manager`). Throws `StreamVersionConflictError`
   * when another writer got there first, and then writes nothing. With a
   * `gate` (an idempotency key's claim), nothing is written either when the
   * gate returns no row: the result says `appended: false`.
   */
  appendToStream(streamId: string, events: NewEvent[], options: GatedAppendOptions): Promise<GatedAppendResult>;
  appendToStream(streamId: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult>;
  async appendToStream(streamId: string, events: NewEvent[], options: AppendOptions & { gate?: SqlPart }): Promise<AppendResult | GatedAppendResult> {
    const { expectedVersion, manager, gate, alongside = [] } = options;
    if (events.length === 0) throw new TypeError('appendToStream needs at least one event');
    if (typeof expectedVersion === 'number' && !(Number.isInteger(expectedVersion) && expectedVersion >= 0)) {
      throw new TypeError(`expectedVersion must be a whole number ≥ 0, 'no_stream' or 'any', not ${expectedVersion}`);
    }
    // Without a transaction a manager's statements could run on any pooled connection: refuse it rather than pretend.
    const runner = manager ? transactionRunnerOf(manager) : undefined;
    const expected = expectedVersion === 'no_stream' ? 0 : expectedVersion === 'any' ? null : expectedVersion;
    // The events go as one jsonb array: one JSON.stringify, no array literals to escape.
    const parameters: unknown[] = [streamId, expected, JSON.stringify(events.map(({ eventId, type, data, metadata }) => ({ eventId, type, data, metadata }))), events.length, EVENTS_NOTIFY_CHANNEL];
    for (const part of [gate, ...alongside]) if (part) parameters.push(...part.parameters);
    const text = appendSql(
      gate?.sql,
      alongside.map((part) => part.sql),
      [gate, ...alongside].map((part) => part?.parameters.length ?? 0),
      runner === undefined,
    );
    let row: AppendRow | undefined;
    try {
      [row] = runner ? await query<AppendRow>(runner, text, parameters) : ((await this.pool().query({ name: statementName(text), text, values: parameters })).rows as AppendRow[]);
    } catch (error) {
      // A failed statement aborts the caller's transaction: the version is read outside it.
      if (isUniqueViolation(error, 'streams_pkey')) throw await this.conflict(streamId, expectedVersion, undefined);
      throw await translateUniqueViolation(error, streamId, expectedVersion, () => this.streamVersion(streamId));
    }
    if (!row?.gate_open) return { appended: false };
    if (row.version === null) throw await this.conflict(streamId, expectedVersion, runner);
    const result: AppendResult = { nextExpectedVersion: row.version, lastGlobalPosition: BigInt(row.last_position ?? 0) };
    return gate ? { appended: true, ...result } : result;
  }

  /**
   * Why the stream did not move: another writer's version, or (in a caller's
   * transaction) a last writer whose transaction began after this one —
   * readAll orders transactions by id, so this one's events would be read
   * before that writer's, out of stream order. Rare; a retry gets a newer id.
   */
  private async conflict(streamId: string, expected: ExpectedVersion, runner: QueryRunner | undefined): Promise<StreamVersionConflictError> {
    const sql = 'SELECT version, last_transaction_id <= coalesce(pg_current_xact_id_if_assigned(), last_transaction_id) AS in_order FROM streams WHERE stream_id = $1';
    const [stream] = runner ? await query<{ version: number; in_order: boolean }>(runner, sql, [streamId]) : await this.statement<{ version: number; in_order: boolean }>(undefined, sql, [streamId]);
    const actual = stream?.version ?? 0;
    const versionMatched = expected === 'any' || (expected === 'no_stream' ? 0 : expected) === actual;
    if (versionMatched && stream && !stream.in_order) {
      return new StreamVersionConflictError(streamId, expected, actual, `stream ${streamId} was written by a transaction that began after this one; retry in a new transaction`);
    }
    return new StreamVersionConflictError(streamId, expected, actual);
  }

  /** The stream's events from `fromVersion` (default 1), in version order; empty if the stream does not exist. */
  async readStream<T = unknown>(streamId: string, { fromVersion = 1, manager }: ReadStreamOptions = {}): Promise<StoredEvent<T>[]> {
    const rows = await this.statement<EventRow>(manager, `SELECT ${eventColumns} FROM events WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version`, [streamId, fromVersion]);
    return rows.map((row) => toStoredEvent<T>(row));
  }

  /**
   * What a command folds: each event's version, type and data, in version
   * order (no metadata, positions or times, which a decision never needs and
   * which cost the most to carry and parse).
   */
  async readStreamData<T = unknown>(streamId: string, { manager }: ReadOptions = {}): Promise<{ streamVersion: number; type: string; data: T }[]> {
    const rows = await this.statement<{ stream_version: number; type: string; data: T }>(manager, 'SELECT stream_version, type, data FROM events WHERE stream_id = $1 ORDER BY stream_version', [streamId]);
    return rows.map((row) => ({ streamVersion: row.stream_version, type: row.type, data: row.data }));
  }

  /** The version of the stream's last event; 0 if it has none. */
  async streamVersion(streamId: string, { manager }: ReadOptions = {}): Promise<number> {
    const [row] = await this.statement<{ version: number }>(manager, 'SELECT version FROM streams WHERE stream_id = $1', [streamId]);
    return row?.version ?? 0;
  }

  /**
   * Up to `limit` events after the cursor, only from transactions that have
   * all ended (see the class comment), so passing the last returned event's
   * `globalPosition` as `after` next time never skips one. Positions in a
   * page are not always ascending: keep the last event's position as the
   * checkpoint, not the largest.
   */
  async readAll<T = unknown>(options: ReadAllOptions): Promise<StoredEvent<T>[]> {
    return (await this.readPage<T>(options)).events;
  }

  /**
   * `readAll`, and whether committed events past the cursor are held back
   * by the horizon (an older transaction is still open): a reader woken by a
   * notification looks again soon rather than at its next idle poll. One
   * statement: the cursor's transaction id, the page and the flag together.
   */
  async readPage<T = unknown>({ after, limit }: ReadAllOptions): Promise<ReadPage<T>> {
    if (after < 0n) throw new RangeError(`readAll: after must be ≥ 0, not ${after}`);
    if (!(Number.isInteger(limit) && limit > 0)) throw new RangeError(`readAll: limit must be a whole number > 0, not ${limit}`);
    // xid8 '0' is below every real transaction id: the start of the log.
    const rows = await this.statement<Partial<EventRow> & { cursor_found: boolean; held_back: boolean }>(
      undefined,
      `WITH cursor AS (
         SELECT CASE WHEN $1::bigint = 0 THEN '0'::xid8 ELSE (SELECT c.transaction_id FROM events c WHERE c.global_position = $1::bigint) END AS tx,
                pg_snapshot_xmin(pg_current_snapshot()) AS horizon
       )
       SELECT e.*, cursor.tx IS NOT NULL AS cursor_found,
              EXISTS (SELECT 1 FROM events h WHERE h.transaction_id >= cursor.horizon AND (h.transaction_id, h.global_position) > (cursor.tx, $1::bigint)) AS held_back
         FROM cursor
         LEFT JOIN LATERAL (
           SELECT ${eventColumns} FROM events
            WHERE transaction_id < cursor.horizon AND (transaction_id, global_position) > (cursor.tx, $1::bigint)
            ORDER BY transaction_id, global_position
            LIMIT $2
         ) e ON true`,
      [after.toString(), limit],
    );
    const first = rows[0];
    if (first && !first.cursor_found) throw new RangeError(`readAll: no event at position ${after}; pass the globalPosition of an event readAll returned`);
    const events = rows.filter((row): row is EventRow & { cursor_found: boolean; held_back: boolean } => row.global_position != null).map((row) => toStoredEvent<T>(row));
    return { events, heldBack: first?.held_back ?? false };
  }

  /** The position a subscriber stored under `name`, or undefined if it never stored one. */
  async readCheckpoint(name: string, { manager }: ReadOptions = {}): Promise<bigint | undefined> {
    const [row] = await this.statement<{ position: string }>(manager, 'SELECT position FROM checkpoints WHERE name = $1', [name]);
    return row ? BigInt(row.position) : undefined;
  }

  /**
   * Stores a subscriber's position (the last event it handled). It may move
   * backwards numerically, because readAll's order is not position order.
   */
  async storeCheckpoint(name: string, position: bigint, { manager }: ReadOptions = {}): Promise<void> {
    await this.statement(
      manager,
      `INSERT INTO checkpoints (name, position) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = now()`,
      [name, position.toString()],
    );
  }

  /** The highest global position stored (0 when empty): how far ahead of a checkpoint the log is, for lag metrics. */
  async headPosition(): Promise<bigint> {
    const [row] = await this.statement<{ head: string }>(undefined, 'SELECT coalesce(max(global_position), 0)::text AS head FROM events', []);
    return BigInt(row?.head ?? '0');
  }

  /**
   * Whether the subscriber at checkpoint `name` has handled the latest event
   * of `streamId` committed so far, in readAll's (transaction, position)
   * order; true for a stream with no events, false with no checkpoint.
   */
  async checkpointHasPassed(name: string, streamId: string): Promise<boolean> {
    const [row] = await this.statement<{ passed: boolean }>(
      undefined,
      `SELECT coalesce((done.transaction_id, done.global_position) >= (mine.transaction_id, mine.global_position), false) AS passed
         FROM (SELECT transaction_id, global_position FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1) mine
         LEFT JOIN checkpoints c ON c.name = $2
         LEFT JOIN events done ON done.global_position = c.position`,
      [streamId, name],
    );
    return row?.passed ?? true;
  }

  /**
   * Retention: deletes the events recorded before `before`, and the streams
   * left without events. An event a checkpoint points at stays, since a
   * reader's cursor must name an event readAll can find (see `readPage`).
   * Returns how many events it deleted.
   */
  async deleteEventsRecordedBefore(before: Date): Promise<number> {
    const [row] = await this.statement<{ deleted: number }>(
      undefined,
      `WITH deleted AS (
         DELETE FROM events e WHERE e.recorded_at < $1 AND NOT EXISTS (SELECT 1 FROM checkpoints c WHERE c.position = e.global_position)
         RETURNING e.stream_id, e.global_position
       ),
       -- One snapshot for the whole statement: a stream is emptied when every event of it is among those deleted.
       emptied AS (
         DELETE FROM streams s WHERE s.stream_id IN (SELECT stream_id FROM deleted)
            AND NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = s.stream_id AND e.global_position NOT IN (SELECT global_position FROM deleted))
       )
       SELECT count(*)::int AS deleted FROM deleted`,
      [before],
    );
    return row?.deleted ?? 0;
  }

  /**
   * One statement, on the caller's connection if it gave a transactional
   * manager, else as a named (prepared) statement on a pooled connection.
   */
  private async statement<T>(manager: EntityManager | undefined, sql: string, parameters: unknown[]): Promise<T[]> {
    if (manager?.queryRunner && !manager.queryRunner.isReleased) return query<T>(manager.queryRunner, sql, parameters);
    return (await this.pool().query({ name: statementName(sql), text: sql, values: parameters })).rows as T[];
  }

  private pool(): PgPool {
    const pool = (this.dataSource.driver as unknown as { master?: PgPool }).master;
    if (!pool) throw new Error('PostgresEventStore: the data source is not initialised');
    return pool;
  }
}

/** What the append statement answers: whether its gate let it go ahead, the stream's new version (null: it did not move), the last position. */
interface AppendRow {
  gate_open: boolean;
  version: number | null;
  last_position: string | null;
}

/**
 * The append around a gate and writes alongside, their `$n` moved past the
 * append's own five parameters (built once per shape). `$2` is the expected
 * version, null for any. The stream row moves to its new version only if
 * it is still at the expected version and its last writer's transaction is
 * not newer than this one (readAll's order; see `conflict`); a new stream
 * is inserted, which waits for a concurrent creator and then finds its row.
 * Events are inserted only if the stream moved, at the versions after the
 * one it moved from, positions drawn in version order (ORDER BY
 * ordinality); the notification goes out on commit. A data-modifying WITH
 * runs whether or not the main query reads it.
 */
function appendSql(gate: string | undefined, alongside: string[], parameterCounts: number[], refuseWhole: boolean): string {
  const key = [String(refuseWhole), gate ?? '', ...alongside].join('\u0000');
  let sql = appendStatements.get(key);
  if (sql) return sql;
  let offset = 5;
  const renumbered = (part: string, count: number) => {
    const moved = part.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    offset += count;
    return moved;
  };
  const gateSql = gate === undefined ? 'SELECT 1' : renumbered(gate, parameterCounts[0] ?? 0);
  const alongsideSql = alongside.map((part, i) => `,\n alongside_${i} AS (${renumbered(part, parameterCounts[i + 1] ?? 0)})`).join('');
  sql = `WITH gate AS (${gateSql}),
 stream AS (
   INSERT INTO streams (stream_id, version, last_transaction_id)
   SELECT $1, $4::int, pg_current_xact_id()
    WHERE EXISTS (SELECT 1 FROM gate) AND (coalesce($2::int, 0) = 0 OR EXISTS (SELECT 1 FROM streams WHERE stream_id = $1))
   ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + $4::int, last_transaction_id = EXCLUDED.last_transaction_id, updated_at = now()
   WHERE ($2::int IS NULL OR streams.version = $2::int) AND streams.last_transaction_id <= EXCLUDED.last_transaction_id
   RETURNING version
 ),
 appended AS (
   INSERT INTO events (event_id, stream_id, stream_version, type, data, metadata)
   SELECT (e.event->>'eventId')::uuid, $1, s.version - $4::int + e.ordinality::int, e.event->>'type', e.event->'data', e.event->'metadata'
   FROM stream s, jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(event, ordinality)
   ORDER BY e.ordinality
   RETURNING global_position, pg_notify($5, current_schema()) AS notified
 )${alongsideSql}${refuseWhole ? refusedSql : ''}
SELECT EXISTS (SELECT 1 FROM gate) AS gate_open, (SELECT version FROM stream) AS version, max(global_position)::text AS last_position FROM appended`;
  appendStatements.set(key, sql);
  return sql;
}

/**
 * On a statement of its own, a conflict must undo the whole statement, so
 * that the gate (an idempotency key's claim) goes too. Plain SQL cannot
 * raise an error, so this inserts the stream's key twice, which the primary
 * key always refuses (`streams_pkey`, read back as a conflict). In the
 * caller's transaction the statement ends quietly instead, leaving the
 * transaction usable: the caller rolls it (or its savepoint) back.
 */
const refusedSql = `,
 refused AS (
   INSERT INTO streams (stream_id, version, last_transaction_id)
   SELECT $1, 0, pg_current_xact_id() FROM generate_series(1, 2)
    WHERE EXISTS (SELECT 1 FROM gate) AND NOT EXISTS (SELECT 1 FROM stream)
 )`;

const appendStatements = new Map<string, string>();
const statementNames = new Map<string, string>();

/** A prepared statement's name, the same for the same SQL text (pg prepares it once per connection). */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `gancho_es_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    statementNames.set(sql, name);
  }
  return name;
}

async function query<T>(runner: QueryRunner, sql: string, parameters: unknown[]): Promise<T[]> {
  const result = await runner.query(sql, parameters, true);
  return result.records as T[];
}

function transactionRunnerOf(manager: EntityManager): QueryRunner {
  const runner = manager.queryRunner;
  // Without a transaction each statement could run on another pooled
  // connection and the append would not be atomic.
  if (!runner?.isTransactionActive) throw new Error('appendToStream: the manager must belong to a running transaction');
  return runner;
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const driverError = (error instanceof QueryFailedError ? error.driverError : error) as { code?: string; constraint?: string } | undefined;
  return driverError?.code === '23505' && driverError.constraint === constraint;
}

/** A unique key of the events that refused the append, as the store's own errors; any other error as it is. */
async function translateUniqueViolation(error: unknown, streamId: string, expected: ExpectedVersion, streamVersion: () => Promise<number>): Promise<unknown> {
  if (isUniqueViolation(error, 'events_event_id_key')) return new DuplicateEventIdError(streamId);
  // The stream row's version check makes this unreachable; kept so a bug is still a conflict, not a raw error.
  if (isUniqueViolation(error, 'events_stream_id_stream_version_key')) return new StreamVersionConflictError(streamId, expected, await streamVersion());
  return error;
}

function toStoredEvent<T>(row: EventRow): StoredEvent<T> {
  return {
    eventId: row.event_id,
    globalPosition: BigInt(row.global_position),
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    type: row.type,
    data: row.data as T,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}
