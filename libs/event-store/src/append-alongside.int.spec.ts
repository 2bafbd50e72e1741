import { randomUUID } from 'node:crypto';
import { openServiceDataSource } from '@gancho/persistence';
import { createTestDatabase, eventually, type TestDatabase } from '@gancho/testing';
import { Client, type Notification } from 'pg';
import type { DataSource } from 'typeorm';
import { DuplicateEventIdError, StreamVersionConflictError } from './errors';
import { CreateEventStore1764300000000 } from './migrations/create-event-store';
import { EVENTS_NOTIFY_CHANNEL, PostgresEventStore, WHEN_APPENDED } from './postgres-event-store';
import type { NewEvent, SqlPart } from './types';

// Scenarios for appendToStream with writes alongside and a gate, on the real PostgreSQL (schema "journey"):
// - events and a write alongside them commit together, readable with readStream and readStreamData;
// - a stale read version (another writer appended since) is a conflict that writes nothing: no
//   events, no stream version, no alongside row, no gate row; ten racing appenders: one wins;
// - a gate that returns no row (an idempotency key already taken) stops everything, and a second
//   writer with the same gate waits for the first and then stops;
// - in the caller's transaction the gate, the events and the write alongside commit or roll back
//   with it, and a gate that returns no row there writes nothing either;
// - a reused event id gets its own error; a commit notifies the schema.
describe('PostgresEventStore.appendToStream with writes alongside on a real PostgreSQL', () => {
  const schema = 'journey';
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;

  const newEvent = (type = 'purchase.logged', data: object = { n: 1 }): NewEvent => ({ eventId: randomUUID(), type, data, metadata: { correlationId: randomUUID() } });
  const newStream = () => `purchase:${randomUUID()}`;
  const summary = (streamId: string, status: string): SqlPart => ({
    sql: `INSERT INTO summaries (stream_id, status) SELECT $1, $2 WHERE ${WHEN_APPENDED}
          ON CONFLICT (stream_id) DO UPDATE SET status = EXCLUDED.status`,
    parameters: [streamId, status],
  });
  const claim = (key: string, answer: string): SqlPart => ({
    sql: 'INSERT INTO claims (key, answer) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1',
    parameters: [key, answer],
  });
  const rows = (sql: string, parameters: unknown[]) => dataSource.query(sql, parameters) as Promise<Record<string, unknown>[]>;
  const conflictOf = async (promise: Promise<unknown>) => {
    const error: unknown = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamVersionConflictError);
    return error as StreamVersionConflictError;
  };

  beforeAll(async () => {
    database = await createTestDatabase('one_statement_append');
    dataSource = await openServiceDataSource({ url: database.url, schema, migrations: [CreateEventStore1764300000000], applicationName: 'gancho-test' });
    await dataSource.query('CREATE TABLE summaries (stream_id text PRIMARY KEY, status text NOT NULL)');
    await dataSource.query('CREATE TABLE claims (key text PRIMARY KEY, answer text NOT NULL)');
    store = new PostgresEventStore(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('appends events with a write alongside, in one statement', async () => {
    const streamId = newStream();
    const [first, second, third] = [newEvent('purchase.logged', { status: 'logged' }), newEvent('purchase.cart', { status: 'cart' }), newEvent('purchase.info', { status: 'info' })];

    const created = await store.appendToStream(streamId, [first, second], { expectedVersion: 0, alongside: [summary(streamId, 'cart')] });
    const moved = await store.appendToStream(streamId, [third], { expectedVersion: 2, alongside: [summary(streamId, 'info')] });

    expect(created).toMatchObject({ nextExpectedVersion: 2 });
    expect(moved).toMatchObject({ nextExpectedVersion: 3 });
    const events = await store.readStream(streamId);
    expect(events.map((e) => [e.eventId, e.streamVersion, e.type, e.data, e.metadata])).toEqual([first, second, third].map((e, i) => [e.eventId, i + 1, e.type, e.data, e.metadata]));
    expect(moved.lastGlobalPosition).toBe(events[2]?.globalPosition);
    expect(await store.readStreamData(streamId)).toEqual([first, second, third].map((e, i) => ({ streamVersion: i + 1, type: e.type, data: e.data })));
    expect(await store.streamVersion(streamId)).toBe(3);
    expect(await rows('SELECT status FROM summaries WHERE stream_id = $1', [streamId])).toEqual([{ status: 'info' }]);
  });

  it('refuses a stale read version and writes nothing, not even the gate or the write alongside', async () => {
    const streamId = newStream();
    await store.appendToStream(streamId, [newEvent()], { expectedVersion: 0 });
    await store.appendToStream(streamId, [newEvent()], { expectedVersion: 1 });
    const key = randomUUID();

    const conflict = await conflictOf(store.appendToStream(streamId, [newEvent()], { expectedVersion: 1, gate: claim(key, 'stale'), alongside: [summary(streamId, 'stale')] }));
    const newStreamConflict = await conflictOf(store.appendToStream(streamId, [newEvent()], { expectedVersion: 0 }));

    expect(conflict).toMatchObject({ code: 'STREAM_VERSION_CONFLICT', expected: 1, actual: 2 });
    expect(newStreamConflict).toMatchObject({ expected: 0, actual: 2 });
    expect(await store.streamVersion(streamId)).toBe(2);
    expect(await store.readStreamData(streamId)).toHaveLength(2);
    expect(await rows('SELECT 1 FROM claims WHERE key = $1', [key])).toEqual([]);
    expect(await rows('SELECT 1 FROM summaries WHERE stream_id = $1', [streamId])).toEqual([]);
  });

  it('lets exactly one of ten appenders that read the same version win', async () => {
    const streamId = newStream();
    await store.appendToStream(streamId, [newEvent()], { expectedVersion: 0 });

    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => store.appendToStream(streamId, [newEvent('purchase.racer', { i })], { expectedVersion: 1, alongside: [summary(streamId, `racer ${i}`)] })),
    );

    const winners = outcomes.filter((o) => o.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const loser of outcomes.filter((o) => o.status === 'rejected')) expect(loser.reason).toBeInstanceOf(StreamVersionConflictError);
    const events = await store.readStreamData<{ i: number }>(streamId);
    expect(events.map((e) => e.streamVersion)).toEqual([1, 2]);
    expect(await rows('SELECT status FROM summaries WHERE stream_id = $1', [streamId])).toEqual([{ status: `racer ${events[1]?.data.i}` }]);
  });

  it('writes nothing when its gate returns no row, and a second writer with the same gate waits, then stops', async () => {
    const key = randomUUID();
    const taken = newStream();
    await dataSource.query('INSERT INTO claims (key, answer) VALUES ($1, $2)', [key, 'earlier']);

    expect(await store.appendToStream(taken, [newEvent()], { expectedVersion: 0, gate: claim(key, 'later'), alongside: [summary(taken, 'later')] })).toEqual({ appended: false });
    expect(await store.streamVersion(taken)).toBe(0);
    expect(await rows('SELECT 1 FROM summaries WHERE stream_id = $1', [taken])).toEqual([]);
    expect(await rows('SELECT answer FROM claims WHERE key = $1', [key])).toEqual([{ answer: 'earlier' }]);

    // Two writers with one gate on two new streams (an open without a purchase id, sent twice): one stream.
    const racingKey = randomUUID();
    const [a, b] = [newStream(), newStream()];
    const results = await Promise.all([a, b].map((streamId) => store.appendToStream(streamId, [newEvent()], { expectedVersion: 0, gate: claim(racingKey, streamId) })));
    expect(results.map((r) => r.appended).sort()).toEqual([false, true]);
    const [winner] = (await rows('SELECT answer FROM claims WHERE key = $1', [racingKey])) as { answer: string }[];
    expect(await store.streamVersion(winner?.answer as string)).toBe(1);
    expect(await store.streamVersion(winner?.answer === a ? b : a)).toBe(0);
  });

  it('commits the gate, the events and the write alongside with the caller’s transaction, or none of them', async () => {
    const [kept, rolledBack, refused] = [newStream(), newStream(), newStream()];
    const [keptKey, rolledBackKey] = [randomUUID(), randomUUID()];

    const result = await dataSource.transaction((manager) => store.appendToStream(kept, [newEvent()], { expectedVersion: 0, manager, gate: claim(keptKey, kept), alongside: [summary(kept, 'kept')] }));
    expect(result).toMatchObject({ appended: true, nextExpectedVersion: 1 });
    await dataSource
      .transaction(async (manager) => {
        await store.appendToStream(rolledBack, [newEvent()], { expectedVersion: 0, manager, gate: claim(rolledBackKey, rolledBack), alongside: [summary(rolledBack, 'ghost')] });
        throw new Error('the caller gives up');
      })
      .catch(() => undefined);
    const stopped = await dataSource.transaction((manager) => store.appendToStream(refused, [newEvent()], { expectedVersion: 0, manager, gate: claim(keptKey, refused), alongside: [summary(refused, 'refused')] }));

    expect(stopped).toEqual({ appended: false });
    expect(await store.streamVersion(kept)).toBe(1);
    expect(await rows('SELECT stream_id FROM summaries WHERE stream_id = ANY($1) ORDER BY stream_id', [[kept, rolledBack, refused]])).toEqual([{ stream_id: kept }]);
    expect(await rows('SELECT key FROM claims WHERE key = ANY($1)', [[keptKey, rolledBackKey]])).toEqual([{ key: keptKey }]);
    expect([await store.streamVersion(rolledBack), await store.streamVersion(refused)]).toEqual([0, 0]);
  });

  it('refuses a reused event id with its own error, and notifies the schema on commit', async () => {
    const listener = new Client({ connectionString: database.url });
    await listener.connect();
    const notifications: Notification[] = [];
    listener.on('notification', (n) => notifications.push(n));
    try {
      await listener.query(`LISTEN ${EVENTS_NOTIFY_CHANNEL}`);
      const event = newEvent();
      await store.appendToStream(newStream(), [event], { expectedVersion: 0 });
      const other = newStream();

      await expect(store.appendToStream(other, [{ ...event }], { expectedVersion: 0 })).rejects.toBeInstanceOf(DuplicateEventIdError);

      expect(await store.streamVersion(other)).toBe(0);
      await eventually(() => expect(notifications).toHaveLength(1));
      expect(notifications[0]).toMatchObject({ channel: EVENTS_NOTIFY_CHANNEL, payload: schema });
    } finally {
      await listener.end();
    }
  });

  it('refuses an empty append and an impossible expected version', async () => {
    await expect(store.appendToStream(newStream(), [], { expectedVersion: 0 })).rejects.toThrow(/at least one event/);
    await expect(store.appendToStream(newStream(), [newEvent()], { expectedVersion: -1 })).rejects.toThrow(/expectedVersion/);
  });
});
