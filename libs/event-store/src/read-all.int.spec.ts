import { randomUUID } from 'node:crypto';
import { openServiceDataSource } from '@gancho/persistence';
import { createTestDatabase, eventually, type TestDatabase } from '@gancho/testing';
import type { DataSource, QueryRunner } from 'typeorm';
import { CreateEventStore1764300000000 } from './migrations/create-event-store';
import { PostgresEventStore } from './postgres-event-store';
import type { NewEvent, StoredEvent } from './types';

// Scenarios for readers of the whole log, on the real PostgreSQL:
// - the gap: T1 takes position p1 and stays open, T2 takes p2 > p1 and commits; a reader
//   must not get p2 before p1 is settled, or its checkpoint would pass p1 forever;
// - paging with after/limit walks the log exactly once, and a made-up cursor is refused;
// - 20 concurrent appenders: paging returns every event once, in (transaction, position)
//   order, each stream in version order.
// The readable horizon is the oldest transaction open on the whole server, and other test
// files share the server: "eventually" waits for theirs, never for ours.
/** The item at `index` (negative counts from the end), or a failed test if there is none. */
function at<T>(list: readonly T[], index: number): T {
  const item = list.at(index);
  if (item === undefined) throw new Error(`expected an item at ${index} of ${list.length}`);
  return item;
}

describe('PostgresEventStore.readAll on a real PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;
  const runners: QueryRunner[] = [];

  const newEvent = (type = 'purchase.logged', data: object = {}): NewEvent => ({ eventId: randomUUID(), type, data, metadata: {} });
  const newStream = () => `purchase:${randomUUID()}`;
  const openTransaction = async () => {
    const runner = dataSource.createQueryRunner();
    runners.push(runner);
    await runner.connect();
    await runner.startTransaction('READ COMMITTED');
    return runner;
  };
  const ids = (events: StoredEvent[]) => events.map((e) => e.eventId);
  const readEverything = async (after: bigint, limit: number) => {
    const pages: StoredEvent[][] = [];
    for (let cursor = after; ;) {
      const page = await store.readAll({ after: cursor, limit });
      if (page.length === 0) return pages;
      expect(page.length).toBeLessThanOrEqual(limit);
      pages.push(page);
      cursor = at(page, -1).globalPosition;
    }
  };
  /** Where a reader that has read everything readable now would keep its checkpoint. */
  const currentCursor = async () => (await readEverything(0n, 1_000)).flat().at(-1)?.globalPosition ?? 0n;

  beforeAll(async () => {
    database = await createTestDatabase('event_store_read_all');
    dataSource = await openServiceDataSource({
      url: database.url,
      schema: 'subscriptions',
      migrations: [CreateEventStore1764300000000],
      applicationName: 'gancho-test',
    });
    store = new PostgresEventStore(dataSource);
  });
  afterAll(async () => {
    for (const runner of runners) if (!runner.isReleased) await runner.release();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('does not hand out a later position while an earlier one is still in flight', async () => {
    const cursor = await currentCursor();
    const early = newEvent('endpoint.created');
    const late = newEvent('endpoint.created');

    const t1 = await openTransaction();
    const p1 = (await store.appendToStream(newStream(), [early], { expectedVersion: 'no_stream', manager: t1.manager })).lastGlobalPosition;
    const t2 = await openTransaction();
    const p2 = (await store.appendToStream(newStream(), [late], { expectedVersion: 'no_stream', manager: t2.manager })).lastGlobalPosition;
    await t2.commitTransaction();
    expect(p2 > p1).toBe(true);

    // T2's event is committed and visible to any query, yet readAll holds it back.
    expect(await dataSource.query('SELECT 1 FROM events WHERE event_id = $1', [late.eventId])).toHaveLength(1);
    expect(ids(await store.readAll({ after: cursor, limit: 100 }))).toEqual([]);

    // A page says so, so that a reader woken by T2's notification looks again soon.
    expect(await store.readPage({ after: cursor, limit: 100 })).toEqual({ events: [], heldBack: true });

    await t1.commitTransaction();
    const settled = await eventually(async () => {
      const page = await store.readAll({ after: cursor, limit: 100 });
      expect(ids(page)).toEqual([early.eventId, late.eventId]);
      return page;
    });
    expect(settled.map((e) => e.globalPosition)).toEqual([p1, p2]);
    expect((await store.readPage({ after: p2, limit: 100 })).heldBack).toBe(false);
  });

  it('does not skip an earlier position when an older transaction commits a later one first', async () => {
    const cursor = await currentCursor();
    const older = await openTransaction();
    // Its id is taken before the other transaction's (as a caller's earlier write would).
    await older.query('SELECT pg_current_xact_id()');
    const newer = await openTransaction();
    const inFlight = newEvent('endpoint.created');
    const committed = newEvent('endpoint.created');
    const p1 = (await store.appendToStream(newStream(), [inFlight], { expectedVersion: 'no_stream', manager: newer.manager })).lastGlobalPosition;
    const p2 = (await store.appendToStream(newStream(), [committed], { expectedVersion: 'no_stream', manager: older.manager })).lastGlobalPosition;
    await older.commitTransaction();
    expect(p2 > p1).toBe(true);

    // The older transaction's event is final, so it may be handed out, and becomes the checkpoint...
    const first = await eventually(async () => {
      const page = await store.readAll({ after: cursor, limit: 100 });
      expect(ids(page)).toEqual([committed.eventId]);
      return page;
    });
    await newer.commitTransaction();

    // ...yet the lower position committed after it still comes next: a position-ordered cursor would skip it.
    await eventually(async () => expect(ids(await store.readAll({ after: at(first, 0).globalPosition, limit: 100 }))).toEqual([inFlight.eventId]));
  });

  it('skips nothing of a transaction that rolled back around committed ones', async () => {
    const cursor = await currentCursor();
    const kept = newEvent('endpoint.created');

    const abandoned = await openTransaction();
    await store.appendToStream(newStream(), [newEvent('endpoint.ghost')], { expectedVersion: 'no_stream', manager: abandoned.manager });
    await store.appendToStream(newStream(), [kept], { expectedVersion: 'no_stream' });
    expect(await store.readAll({ after: cursor, limit: 100 })).toEqual([]);
    await abandoned.rollbackTransaction();

    await eventually(async () => expect(ids(await store.readAll({ after: cursor, limit: 100 }))).toEqual([kept.eventId]));
  });

  it('pages through the log with after and limit, each event once', async () => {
    const cursor = await currentCursor();
    const streams = [newStream(), newStream()];
    const appended: string[] = [];
    for (let i = 0; i < 7; i++) {
      const event = newEvent('endpoint.updated', { i });
      await store.appendToStream(at(streams, i % 2), [event], { expectedVersion: 'any' });
      appended.push(event.eventId);
    }

    const all = await eventually(async () => {
      const page = await store.readAll({ after: cursor, limit: 1_000 });
      expect(ids(page)).toEqual(appended);
      return page;
    });
    const pages = await readEverything(cursor, 3);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual(all);
    expect(await store.readAll({ after: at(all, -1).globalPosition, limit: 10 })).toEqual([]);
    expect((await store.readAll({ after: at(all, 2).globalPosition, limit: 2 })).map((e) => e.eventId)).toEqual(appended.slice(3, 5));
  });

  it('refuses a cursor that is not the position of a stored event, and a bad limit', async () => {
    const [{ next }] = await dataSource.query('SELECT coalesce(max(global_position), 0) + 1000 AS next FROM events');
    await expect(store.readAll({ after: BigInt(next), limit: 10 })).rejects.toThrow(/no event at position/);
    await expect(store.readAll({ after: 0n, limit: 0 })).rejects.toThrow(/limit/);
    await expect(store.readAll({ after: -1n, limit: 10 })).rejects.toThrow(/after/);
  });

  it('returns every event of 20 concurrent appenders exactly once, in a stable order', async () => {
    const cursor = await currentCursor();
    const appenders = Array.from({ length: 20 }, () => ({ streamId: newStream(), events: [] as string[] }));
    await Promise.all(
      appenders.map(async (appender) => {
        let expectedVersion = 0;
        for (let round = 0; round < 5; round++) {
          const batch = [newEvent('endpoint.updated', { round }), newEvent('endpoint.updated', { round })];
          ({ nextExpectedVersion: expectedVersion } = await store.appendToStream(appender.streamId, batch, { expectedVersion }));
          appender.events.push(...batch.map((e) => e.eventId));
        }
      }),
    );
    const expected = appenders.flatMap((a) => a.events);

    const read = await eventually(async () => {
      const events = (await readEverything(cursor, 17)).flat();
      expect(events).toHaveLength(expected.length);
      return events;
    });

    expect(new Set(ids(read)).size).toBe(expected.length);
    expect(new Set(ids(read))).toEqual(new Set(expected));
    // The order is transaction id, then position: the same as the table sorted that way.
    const sorted: { event_id: string }[] = await dataSource.query('SELECT event_id FROM events WHERE event_id = ANY($1::uuid[]) ORDER BY transaction_id, global_position', [expected]);
    expect(ids(read)).toEqual(sorted.map((r) => r.event_id));
    // Which is each stream's version order, and position order within a stream.
    for (const appender of appenders) {
      const ofStream = read.filter((e) => e.streamId === appender.streamId);
      expect(ofStream.map((e) => e.eventId)).toEqual(appender.events);
      expect(ofStream.map((e) => e.streamVersion)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      const positions = ofStream.map((e) => e.globalPosition);
      expect(positions.every((p, i) => i === 0 || p > at(positions, i - 1))).toBe(true);
    }
  });
});
