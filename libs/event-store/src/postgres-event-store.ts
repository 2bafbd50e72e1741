import { createHash } from 'node:crypto';
import { QueryFailedError, type DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { DuplicateEventIdError, StreamVersionConflictError } from './errors';
import type {
  AppendOptions,
  AppendResult,
  EventMetadata,
  ExpectedVersion,
  NewEvent,
  ReadAllOptions,
  ReadPage,
  ReadOptions,
  ReadStreamOptions,
  StoredEvent,
} from './types';

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

interface StreamRow {
  version: number;
  in_order: boolean;
}

const eventColumns = 'global_position, event_id, stream_id, stream_version, type, data, metadata, recorded_at';

/** One statement of SQL with its own `$1`, `$2`… and their values. */
export interface SqlPart {
  sql: string;
  parameters: unknown[];
}

/**
 * SQL that is true when the one-statement append below writes its events: a
 * write passed `alongside` it puts this in its WHERE, so it commits exactly
 * when the events do.
 */
export const WHEN_APPENDED = 'EXISTS (SELECT 1 FROM appended)';

export interface OneStatementAppendOptions {
  /**
   * The stream's version as the caller has just read it (0 for a new stream),
   * after checking any version a client sent (If-Match) against it.
   */
  readVersion: number;
  /**
   * A write (`INSERT … RETURNING`) whose rows let the append go ahead, such
   * as claiming an idempotency key; when it returns none, nothing is written.
   */
  gate?: SqlPart;
  /** Writes that commit with the events, each conditioned on `WHEN_APPENDED` (a read model's row). */
  alongside?: SqlPart[];
}

/** What a one-statement append did: appended, or stopped by its gate (nothing written). */
export type OneStatementAppendResult = ({ appended: true } & AppendResult) | { appended: false };

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
   * Appends events to a stream if it is still at `expectedVersion`, in the
   * caller's transaction (`manager`) or in one of its own. Throws
   * `StreamVersionConflictError` when another writer got there first.
   */
  async appendToStream(streamId: string, events: NewEvent[], { expectedVersion, manager }: AppendOptions): Promise<AppendResult> {
    if (events.length === 0) throw new TypeError('appendToStream needs at least one event');
    if (typeof expectedVersion === 'number' && !(Number.isInteger(expectedVersion) && expectedVersion >= 0)) {
      throw new TypeError(`expectedVersion must be a whole number ≥ 0, 'no_stream' or 'any', not ${expectedVersion}`);
    }
    if (manager) return this.append(transactionRunnerOf(manager), streamId, events, expectedVersion);
    return this.inOwnTransaction((runner) => this.append(runner, streamId, events, expectedVersion));
  }

  /**
   * Appends events and the caller's `alongside` writes in ONE statement, so
   * one round trip and its own transaction: all of it commits, or none.
   * Meant for a command that has just read the stream (`readVersion`) and
   * decided, with no transaction held open in between (optimistic). A writer
   * that got there first makes the events' (stream, version) unique key
   * refuse the whole statement, which becomes `StreamVersionConflictError`.
   * No readAll-order check is needed here: this transaction gets its id only
   * now, after every writer whose events the read saw had committed.
   */
  async appendInOneStatement(streamId: string, events: NewEvent[], { readVersion, gate, alongside = [] }: OneStatementAppendOptions): Promise<OneStatementAppendResult> {
    if (events.length === 0) throw new TypeError('appendInOneStatement needs at least one event');
    if (!(Number.isInteger(readVersion) && readVersion >= 0)) throw new TypeError(`readVersion must be a whole number ≥ 0, not ${readVersion}`);
    // The events go as one jsonb array: one JSON.stringify, no array literals to escape.
    const parameters: unknown[] = [streamId, readVersion, JSON.stringify(events.map(({ eventId, type, data, metadata }) => ({ eventId, type, data, metadata }))), events.length, EVENTS_NOTIFY_CHANNEL];
    for (const part of [gate, ...alongside]) if (part) parameters.push(...part.parameters);
    const text = oneStatementAppendSql(gate?.sql, alongside.map((part) => part.sql), [gate, ...alongside].map((part) => part?.parameters.length ?? 0));
    let rows: { appended: number; last_position: string | null }[];
    try {
      rows = (await this.pool().query({ name: statementName(text), text, values: parameters })).rows as typeof rows;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const constraint = (error as { constraint?: string }).constraint;
      if (code === '23505' && constraint === 'events_event_id_key') throw new DuplicateEventIdError(streamId);
      if (code === '23505' && constraint === 'events_stream_id_stream_version_key') {
        throw new StreamVersionConflictError(streamId, readVersion, await this.streamVersion(streamId));
      }
      throw error;
    }
    const [row] = rows;
    if (!row || row.appended === 0) return { appended: false };
    return { appended: true, nextExpectedVersion: readVersion + events.length, lastGlobalPosition: BigInt(row.last_position ?? 0) };
  }

  /** The stream's events from `fromVersion` (default 1), in version order; empty if the stream does not exist. */
  async readStream<T = unknown>(streamId: string, { fromVersion = 1, manager }: ReadStreamOptions = {}): Promise<StoredEvent<T>[]> {
    const rows = await this.read<EventRow>(
      manager,
      `SELECT ${eventColumns} FROM events WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version`,
      [streamId, fromVersion],
    );
    return rows.map((row) => toStoredEvent<T>(row));
  }

  /**
   * What a command folds: each event's version, type and data, in version
   * order (no metadata, positions or times, which a decision never needs and
   * which cost the most to carry and parse).
   */
  async readStreamData<T = unknown>(streamId: string): Promise<{ streamVersion: number; type: string; data: T }[]> {
    const rows = await this.read<{ stream_version: number; type: string; data: T }>(
      undefined,
      'SELECT stream_version, type, data FROM events WHERE stream_id = $1 ORDER BY stream_version',
      [streamId],
    );
    return rows.map((row) => ({ streamVersion: row.stream_version, type: row.type, data: row.data }));
  }

  /** The version of the stream's last event; 0 if it has none. */
  async streamVersion(streamId: string, { manager }: ReadOptions = {}): Promise<number> {
    const [row] = await this.read<{ version: number }>(manager, 'SELECT version FROM streams WHERE stream_id = $1', [streamId]);
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
    const rows = await this.read<Partial<EventRow> & { cursor_found: boolean; held_back: boolean }>(
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
    const [row] = await this.read<{ position: string }>(manager, 'SELECT position FROM checkpoints WHERE name = $1', [name]);
    return row ? BigInt(row.position) : undefined;
  }

  /**
   * Stores a subscriber's position (the last event it handled). It may move
   * backwards numerically, because readAll's order is not position order.
   */
  async storeCheckpoint(name: string, position: bigint, { manager }: ReadOptions = {}): Promise<void> {
    await this.read(
      manager,
      `INSERT INTO checkpoints (name, position) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = now()`,
      [name, position.toString()],
    );
  }

  /** The highest global position stored (0 when empty): how far ahead of a checkpoint the log is, for lag metrics. */
  async headPosition(): Promise<bigint> {
    const [row] = await this.read<{ head: string }>(undefined, 'SELECT coalesce(max(global_position), 0)::text AS head FROM events', []);
    return BigInt(row?.head ?? '0');
  }

  /**
   * Whether the subscriber at checkpoint `name` has handled the latest event
   * of `streamId` committed so far, in readAll's (transaction, position)
   * order; true for a stream with no events, false with no checkpoint.
   */
  async checkpointHasPassed(name: string, streamId: string): Promise<boolean> {
    const [row] = await this.read<{ passed: boolean }>(
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
    const [row] = await this.read<{ deleted: number }>(
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

  private async append(runner: QueryRunner, streamId: string, events: NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
    const current = await lockStream(runner, streamId, expected);
    const expectedNumber = expected === 'no_stream' ? 0 : expected;
    if (expectedNumber !== 'any' && current.version !== expectedNumber) {
      throw new StreamVersionConflictError(streamId, expected, current.version);
    }
    // readAll orders transactions by id; a transaction that got its id before
    // the stream's last writer (and read that writer's events since) would be
    // read before it, out of stream order. Rare; a retry gets a newer id.
    if (!current.in_order) {
      throw new StreamVersionConflictError(
        streamId,
        expected,
        current.version,
        `stream ${streamId} was written by a transaction that began after this one; retry in a new transaction`,
      );
    }

    const nextVersion = current.version + events.length;
    let inserted: { global_position: string }[];
    try {
      // One statement, one round trip: the stream's new version, the events
      // (positions drawn in the same order as versions: ORDER BY ordinality),
      // and the notification (PostgreSQL delivers one per transaction for
      // identical payloads, however many rows ask). A data-modifying WITH runs
      // whether or not the main query reads it.
      inserted = await query<{ global_position: string }>(
        runner,
        `WITH bumped AS (
           UPDATE streams SET version = $2::int + $7::int, last_transaction_id = pg_current_xact_id(), updated_at = now() WHERE stream_id = $1 RETURNING 1
         )
         INSERT INTO events (event_id, stream_id, stream_version, type, data, metadata)
         SELECT e.event_id, $1, $2::int + e.ordinality::int, e.type, e.data, e.metadata
         FROM unnest($3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[]) WITH ORDINALITY AS e(event_id, type, data, metadata, ordinality)
         ORDER BY e.ordinality
         RETURNING global_position, pg_notify($8, current_schema()) AS notified`,
        [
          streamId,
          current.version,
          events.map((e) => e.eventId),
          events.map((e) => e.type),
          events.map((e) => JSON.stringify(e.data)),
          events.map((e) => JSON.stringify(e.metadata)),
          events.length,
          EVENTS_NOTIFY_CHANNEL,
        ],
      );
    } catch (error) {
      throw translateUniqueViolation(error, streamId, expected, current.version);
    }

    const lastGlobalPosition = inserted.reduce((max, row) => {
      const position = BigInt(row.global_position);
      return position > max ? position : max;
    }, 0n);
    return { nextExpectedVersion: nextVersion, lastGlobalPosition };
  }

  private async inOwnTransaction<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('READ COMMITTED');
      try {
        const result = await work(runner);
        await runner.commitTransaction();
        return result;
      } catch (error) {
        await runner.rollbackTransaction();
        throw error;
      }
    } finally {
      await runner.release();
    }
  }

  /**
   * One statement, on the caller's connection if it gave a transactional
   * manager, else as a named (prepared) statement on a pooled connection.
   */
  private async read<T>(manager: EntityManager | undefined, sql: string, parameters: unknown[]): Promise<T[]> {
    if (manager?.queryRunner && !manager.queryRunner.isReleased) return query<T>(manager.queryRunner, sql, parameters);
    return (await this.pool().query({ name: statementName(sql), text: sql, values: parameters })).rows as T[];
  }

  private pool(): PgPool {
    const pool = (this.dataSource.driver as unknown as { master?: PgPool }).master;
    if (!pool) throw new Error('PostgresEventStore: the data source is not initialised');
    return pool;
  }
}

/**
 * The one-statement append around a gate and writes alongside, their `$n`
 * moved past the append's own five parameters (built once per shape).
 * The stream row moves to its new version only if it is still at the read
 * version (inserted at it if new); when it is not, the events' unique key
 * refuses the statement. Positions are drawn in version order (ORDER BY
 * ordinality); the notification goes out on commit.
 */
function oneStatementAppendSql(gate: string | undefined, alongside: string[], parameterCounts: number[]): string {
  const key = [gate ?? '', ...alongside].join('\u0000');
  let sql = oneStatementAppends.get(key);
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
   SELECT $1, $2::int + $4::int, pg_current_xact_id() WHERE EXISTS (SELECT 1 FROM gate)
   ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, last_transaction_id = EXCLUDED.last_transaction_id, updated_at = now()
   WHERE streams.version = $2::int
   RETURNING 1
 ),
 appended AS (
   INSERT INTO events (event_id, stream_id, stream_version, type, data, metadata)
   SELECT (e.event->>'eventId')::uuid, $1, $2::int + e.ordinality::int, e.event->>'type', e.event->'data', e.event->'metadata'
   FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(event, ordinality)
   WHERE EXISTS (SELECT 1 FROM gate)
   ORDER BY e.ordinality
   RETURNING global_position, pg_notify($5, current_schema()) AS notified
 )${alongsideSql}
SELECT count(*)::int AS appended, max(global_position)::text AS last_position FROM appended`;
  oneStatementAppends.set(key, sql);
  return sql;
}

const oneStatementAppends = new Map<string, string>();
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

/**
 * Locks the stream's row (creating it at version 0 if it may be new) so
 * concurrent appenders queue here, and answers its committed version and
 * whether this transaction is not older than its last writer.
 */
async function lockStream(runner: QueryRunner, streamId: string, expected: ExpectedVersion): Promise<StreamRow> {
  if (expected === 'no_stream' || expected === 0) {
    // Waits for a concurrent creator to finish; if it committed, nothing is inserted.
    const [created] = await query<{ version: number }>(
      runner,
      `INSERT INTO streams (stream_id, version, last_transaction_id) VALUES ($1, 0, pg_current_xact_id())
       ON CONFLICT (stream_id) DO NOTHING RETURNING version`,
      [streamId],
    );
    if (created) return { version: created.version, in_order: true };
    const [existing] = await query<{ version: number }>(runner, 'SELECT version FROM streams WHERE stream_id = $1', [streamId]);
    return { version: existing?.version ?? 0, in_order: true };
  }
  if (expected === 'any') {
    const [row] = await query<StreamRow>(
      runner,
      `INSERT INTO streams (stream_id, version, last_transaction_id) VALUES ($1, 0, pg_current_xact_id())
       ON CONFLICT (stream_id) DO UPDATE SET version = streams.version
       RETURNING version, last_transaction_id <= pg_current_xact_id() AS in_order`,
      [streamId],
    );
    if (!row) throw new Error(`could not lock stream ${streamId}`);
    return row;
  }
  const [row] = await query<StreamRow>(
    runner,
    'SELECT version, last_transaction_id <= pg_current_xact_id() AS in_order FROM streams WHERE stream_id = $1 FOR UPDATE',
    [streamId],
  );
  return row ?? { version: 0, in_order: true };
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

function translateUniqueViolation(error: unknown, streamId: string, expected: ExpectedVersion, version: number): unknown {
  if (!(error instanceof QueryFailedError)) return error;
  const driverError = error.driverError as { code?: string; constraint?: string } | undefined;
  if (driverError?.code !== '23505') return error;
  if (driverError.constraint === 'events_event_id_key') return new DuplicateEventIdError(streamId);
  // The stream row lock makes this unreachable; kept so a bug is still a conflict, not a raw error.
  if (driverError.constraint === 'events_stream_id_stream_version_key') return new StreamVersionConflictError(streamId, expected, version);
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
