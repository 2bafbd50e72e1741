import { randomUUID } from 'node:crypto';
import { openServiceDataSource } from '@gancho/persistence';
import { createTestDatabase, eventually, type TestDatabase } from '@gancho/testing';
import { Client, type Notification } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import { DuplicateEventIdError, StreamVersionConflictError } from './errors';
import { CreateEventStore1764300000000 } from './migrations/create-event-store';
import { EVENTS_NOTIFY_CHANNEL, PostgresEventStore } from './postgres-event-store';
import type { EventMetadata, NewEvent } from './types';

// Scenarios, on the real PostgreSQL (one database for this file, schema "journey"):
// - appended events read back in version order with ids, positions, metadata and recorded time;
// - a stale expected version, 'no_stream' on an existing stream, a version on a missing stream: conflicts;
// - two appenders racing on one version: the second waits for the first, then gets a conflict;
//   ten racing: exactly one wins, nothing is lost or duplicated;
// - a transaction older than the stream's last writer cannot append (readAll order would break);
// - an append in the caller's transaction commits with the caller's own writes, or rolls back
//   with them and leaves nothing, not even a notification; a commit notifies the schema;
// - a reused event id is refused with its own error; checkpoints round-trip.
/** The item at `index` (negative counts from the end), or a failed test if there is none. */
function at<T>(list: readonly T[], index: number): T {
  const item = list.at(index);
  if (item === undefined) throw new Error(`expected an item at ${index} of ${list.length}`);
  return item;
}

describe('PostgresEventStore on a real PostgreSQL', () => {
  const schema = 'journey';
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;
  const runners: QueryRunner[] = [];

  const newEvent = (type = 'purchase.logged', data: object = { n: 1 }, metadata: EventMetadata = {}): NewEvent => ({
    eventId: randomUUID(),
    type,
    data,
    metadata,
  });
  const newStream = () => `purchase:${randomUUID()}`;
  const openTransaction = async () => {
    const runner = dataSource.createQueryRunner();
    runners.push(runner);
    await runner.connect();
    await runner.startTransaction('READ COMMITTED');
    return runner;
  };
  const conflictOf = async (promise: Promise<unknown>) => {
    const error: unknown = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamVersionConflictError);
    return error as StreamVersionConflictError;
  };

  beforeAll(async () => {
    database = await createTestDatabase('event_store');
    dataSource = await openServiceDataSource({
      url: database.url,
      schema,
      migrations: [CreateEventStore1764300000000],
      applicationName: 'gancho-test',
    });
    await dataSource.query('CREATE TABLE purchase_summaries (stream_id text PRIMARY KEY, status text NOT NULL)');
    store = new PostgresEventStore(dataSource);
  });
  afterAll(async () => {
    for (const runner of runners) if (!runner.isReleased) await runner.release();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('creates its tables in the service schema', async () => {
    const tables: { table_name: string }[] = await dataSource.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema]);
    expect(tables.map((t) => t.table_name)).toEqual(['checkpoints', 'events', 'migrations', 'purchase_summaries', 'streams']);
  });

  it('appends events and reads them back in version order, with metadata and recorded time', async () => {
    const streamId = newStream();
    const metadata: EventMetadata = {
      correlationId: randomUUID(),
      causationId: randomUUID(),
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'gancho=1',
      partnerId: 'ptn_1',
    };
    const first = newEvent('purchase.logged', { purchase_id: 'pur_1' }, metadata);
    const second = newEvent('purchase.shopping_cart_created', { course: { price_cents: 1_234_500, currency: 'BRL' } }, metadata);
    const third = newEvent('purchase.basic_info_incomplete', { list: [1, 'two', null] }, {});
    const before = Date.now();

    const created = await store.appendToStream(streamId, [first, second], { expectedVersion: 'no_stream' });
    const appended = await store.appendToStream(streamId, [third], { expectedVersion: created.nextExpectedVersion });

    expect(created.nextExpectedVersion).toBe(2);
    expect(appended.nextExpectedVersion).toBe(3);
    const events = await store.readStream(streamId);
    expect(events.map((e) => [e.eventId, e.streamId, e.streamVersion, e.type, e.data, e.metadata])).toEqual([
      [first.eventId, streamId, 1, first.type, first.data, metadata],
      [second.eventId, streamId, 2, second.type, second.data, metadata],
      [third.eventId, streamId, 3, third.type, third.data, {}],
    ]);
    const positions = events.map((e) => e.globalPosition);
    expect(typeof positions[0]).toBe('bigint');
    expect(at(positions, 0) < at(positions, 1) && at(positions, 1) < at(positions, 2)).toBe(true);
    expect(created.lastGlobalPosition).toBe(positions[1]);
    expect(appended.lastGlobalPosition).toBe(positions[2]);
    for (const event of events) {
      expect(event.recordedAt).toBeInstanceOf(Date);
      // Database clock against the test's clock, same machine: a generous margin.
      expect(event.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 5_000);
      expect(event.recordedAt.getTime()).toBeLessThanOrEqual(Date.now() + 5_000);
    }

    expect(await store.streamVersion(streamId)).toBe(3);
    expect((await store.readStream(streamId, { fromVersion: 2 })).map((e) => e.streamVersion)).toEqual([2, 3]);
    expect(await store.streamVersion(newStream())).toBe(0);
    expect(await store.readStream(newStream())).toEqual([]);
  });

  it('refuses stale and impossible expected versions, and leaves the stream as it was', async () => {
    const streamId = newStream();
    await store.appendToStream(streamId, [newEvent(), newEvent()], { expectedVersion: 0 });
    const before = await store.readStream(streamId);

    const stale = await conflictOf(store.appendToStream(streamId, [newEvent()], { expectedVersion: 1 }));
    expect(stale).toMatchObject({ code: 'STREAM_VERSION_CONFLICT', streamId, expected: 1, actual: 2 });
    const exists = await conflictOf(store.appendToStream(streamId, [newEvent()], { expectedVersion: 'no_stream' }));
    expect(exists).toMatchObject({ expected: 'no_stream', actual: 2 });
    const ahead = await conflictOf(store.appendToStream(streamId, [newEvent()], { expectedVersion: 3 }));
    expect(ahead).toMatchObject({ expected: 3, actual: 2 });
    const missing = newStream();
    const absent = await conflictOf(store.appendToStream(missing, [newEvent()], { expectedVersion: 1 }));
    expect(absent).toMatchObject({ streamId: missing, expected: 1, actual: 0 });

    expect(await store.readStream(streamId)).toEqual(before);
    expect(await store.streamVersion(missing)).toBe(0);

    const any = await store.appendToStream(streamId, [newEvent()], { expectedVersion: 'any' });
    expect(any.nextExpectedVersion).toBe(3);
    const fresh = await store.appendToStream(newStream(), [newEvent()], { expectedVersion: 'any' });
    expect(fresh.nextExpectedVersion).toBe(1);
  });

  it('makes the second of two appenders with the same expected version wait, then refuses it', async () => {
    const streamId = newStream();
    await store.appendToStream(streamId, [newEvent()], { expectedVersion: 'no_stream' });
    const winner = newEvent('purchase.winner');
    const loser = newEvent('purchase.loser');

    const first = await openTransaction();
    await store.appendToStream(streamId, [winner], { expectedVersion: 1, manager: first.manager });
    const second = store.appendToStream(streamId, [loser], { expectedVersion: 1 }).then(
      () => 'appended',
      (e: unknown) => e,
    );
    // The second appender is really concurrent: it is queued on the stream's row lock.
    await eventually(async () => {
      const [{ waiting }] = await dataSource.query("SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
      expect(waiting).toBe(1);
    });
    await first.commitTransaction();

    expect(await second).toMatchObject({ code: 'STREAM_VERSION_CONFLICT', streamId, expected: 1, actual: 2 });
    expect((await store.readStream(streamId)).map((e) => [e.streamVersion, e.type])).toEqual([
      [1, 'purchase.logged'],
      [2, 'purchase.winner'],
    ]);
  });

  it('lets exactly one of many racing appenders win each version, losing and duplicating nothing', async () => {
    const streamId = newStream();
    const race = async (expectedVersion: number | 'no_stream') => {
      const candidates = Array.from({ length: 10 }, (_, i) => newEvent('purchase.raced', { i }));
      const outcomes = await Promise.allSettled(candidates.map((c) => store.appendToStream(streamId, [c], { expectedVersion })));
      const winners = candidates.filter((_, i) => outcomes[i]?.status === 'fulfilled');
      const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(winners).toHaveLength(1);
      expect(failures).toHaveLength(9);
      for (const failure of failures) expect(failure).toBeInstanceOf(StreamVersionConflictError);
      return at(winners, 0);
    };

    const creator = await race('no_stream');
    const follower = await race(1);

    const events = await store.readStream(streamId);
    expect(events.map((e) => [e.streamVersion, e.eventId])).toEqual([
      [1, creator.eventId],
      [2, follower.eventId],
    ]);
    expect(await store.streamVersion(streamId)).toBe(2);
  });

  it('refuses an append from a transaction older than the stream’s last writer', async () => {
    const streamId = newStream();
    const older = await openTransaction();
    // The transaction gets its id now, say by writing its idempotency record.
    await older.query("INSERT INTO purchase_summaries (stream_id, status) VALUES ($1, 'pending')", [streamId]);
    await store.appendToStream(streamId, [newEvent()], { expectedVersion: 'no_stream' });

    // It sees the newer writer's event (READ COMMITTED) and appends after it: readAll, which
    // orders by transaction id, would hand its event out before version 1.
    const version = await store.streamVersion(streamId, { manager: older.manager });
    expect(version).toBe(1);
    const refused = await conflictOf(store.appendToStream(streamId, [newEvent()], { expectedVersion: version, manager: older.manager }));
    expect(refused).toMatchObject({ streamId, expected: 1, actual: 1 });
    expect(refused.message).toMatch(/retry in a new transaction/);
    await older.rollbackTransaction();

    const retried = await store.appendToStream(streamId, [newEvent()], { expectedVersion: 1 });
    expect(retried.nextExpectedVersion).toBe(2);
  });

  it('commits an append together with the caller’s own writes', async () => {
    const streamId = newStream();
    const event = newEvent('purchase.logged');
    await dataSource.transaction(async (manager) => {
      await store.appendToStream(streamId, [event], { expectedVersion: 'no_stream', manager });
      // Inside the transaction the caller sees its own append.
      expect(await store.streamVersion(streamId, { manager })).toBe(1);
      await manager.query('INSERT INTO purchase_summaries (stream_id, status) VALUES ($1, $2)', [streamId, 'logged']);
    });

    expect((await store.readStream(streamId)).map((e) => e.eventId)).toEqual([event.eventId]);
    expect(await dataSource.query('SELECT status FROM purchase_summaries WHERE stream_id = $1', [streamId])).toEqual([{ status: 'logged' }]);
  });

  it('leaves nothing behind when the caller’s transaction rolls back, and notifies only commits', async () => {
    const listener = new Client({ connectionString: database.url });
    await listener.connect();
    const notifications: Notification[] = [];
    listener.on('notification', (n) => notifications.push(n));
    try {
      await listener.query(`LISTEN ${EVENTS_NOTIFY_CHANNEL}`);
      const rolledBack = newStream();
      const ghost = newEvent('purchase.ghost');

      const caller = await openTransaction();
      await store.appendToStream(rolledBack, [ghost], { expectedVersion: 'no_stream', manager: caller.manager });
      await caller.query('INSERT INTO purchase_summaries (stream_id, status) VALUES ($1, $2)', [rolledBack, 'ghost']);
      expect(await store.readStream(rolledBack, { manager: caller.manager })).toHaveLength(1);
      await caller.rollbackTransaction();

      expect(await store.readStream(rolledBack)).toEqual([]);
      expect(await store.streamVersion(rolledBack)).toBe(0);
      expect(await dataSource.query('SELECT 1 FROM events WHERE event_id = $1', [ghost.eventId])).toEqual([]);
      expect(await dataSource.query('SELECT 1 FROM purchase_summaries WHERE stream_id = $1', [rolledBack])).toEqual([]);
      // The stream can still be created: nothing of the rolled-back append holds its name.
      await store.appendToStream(rolledBack, [newEvent()], { expectedVersion: 'no_stream' });

      // Notifications arrive in commit order, so one from the rolled-back append would come first.
      await eventually(() => expect(notifications).toHaveLength(1));
      expect(notifications[0]).toMatchObject({ channel: EVENTS_NOTIFY_CHANNEL, payload: schema });
    } finally {
      await listener.end();
    }
  });

  it('refuses an event id that is already stored, with its own error', async () => {
    const streamId = newStream();
    const event = newEvent();
    await store.appendToStream(streamId, [event], { expectedVersion: 'no_stream' });

    const error: unknown = await store.appendToStream(newStream(), [{ ...event }], { expectedVersion: 'no_stream' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DuplicateEventIdError);
    expect(error).toMatchObject({ code: 'DUPLICATE_EVENT_ID' });
    expect(await store.streamVersion(streamId)).toBe(1);
  });

  it('refuses an empty append, a negative expected version and a manager outside a transaction', async () => {
    await expect(store.appendToStream(newStream(), [], { expectedVersion: 'any' })).rejects.toThrow(/at least one event/);
    await expect(store.appendToStream(newStream(), [newEvent()], { expectedVersion: -1 })).rejects.toThrow(/expectedVersion/);
    await expect(store.appendToStream(newStream(), [newEvent()], { expectedVersion: 'any', manager: dataSource.manager })).rejects.toThrow(/running transaction/);
  });

  it('stores and reads checkpoints, in the caller’s transaction when given one', async () => {
    expect(await store.readCheckpoint('outbox-relay')).toBeUndefined();
    await store.storeCheckpoint('outbox-relay', 5n);
    expect(await store.readCheckpoint('outbox-relay')).toBe(5n);
    await store.storeCheckpoint('outbox-relay', 9_007_199_254_740_993n);
    expect(await store.readCheckpoint('outbox-relay')).toBe(9_007_199_254_740_993n);
    expect(await store.readCheckpoint('another-subscriber')).toBeUndefined();

    const rolledBack = await openTransaction();
    await store.storeCheckpoint('outbox-relay', 12n, { manager: rolledBack.manager });
    expect(await store.readCheckpoint('outbox-relay', { manager: rolledBack.manager })).toBe(12n);
    await rolledBack.rollbackTransaction();
    expect(await store.readCheckpoint('outbox-relay')).toBe(9_007_199_254_740_993n);

    await dataSource.transaction((manager) => store.storeCheckpoint('outbox-relay', 3n, { manager }));
    expect(await store.readCheckpoint('outbox-relay')).toBe(3n);
  });
});
