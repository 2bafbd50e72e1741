import { randomUUID } from 'node:crypto';
import { openServiceDataSource } from '@gancho/persistence';
import { createTestDatabase, type TestDatabase } from '@gancho/testing';
import type { DataSource } from 'typeorm';
import { CreateEventStore1764300000000 } from './migrations/create-event-store';
import { PostgresEventStore } from './postgres-event-store';
import type { NewEvent } from './types';

// What relays and retention ask of the store, on the real PostgreSQL, so no
// app runs SQL on its tables:
// - headPosition is the newest position (for lag);
// - checkpointHasPassed tells whether a relay has published a stream's latest event;
// - deleteEventsRecordedBefore deletes old events and emptied streams, but keeps
//   the event a checkpoint names, so that relay can still read on from it.
describe('PostgresEventStore: head, checkpoints and retention on a real PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;
  const newEvent = (): NewEvent => ({ eventId: randomUUID(), type: 'HealthReported', data: {}, metadata: {} });
  const newStream = () => `endpoint-health:${randomUUID()}`;
  const append = (streamId: string, expectedVersion: number) => store.appendToStream(streamId, [newEvent()], { expectedVersion });

  beforeAll(async () => {
    database = await createTestDatabase('event_store_retention');
    dataSource = await openServiceDataSource({ url: database.url, schema: 'delivery', migrations: [CreateEventStore1764300000000], applicationName: 'gancho-test' });
    store = new PostgresEventStore(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('answers the newest position as the head', async () => {
    const { lastGlobalPosition } = await append(newStream(), 0);
    expect(await store.headPosition()).toBe(lastGlobalPosition);
  });

  it('tells whether a checkpoint has passed the latest event of a stream', async () => {
    const stream = newStream();
    expect(await store.checkpointHasPassed('test.relay', stream)).toBe(true);
    const first = await append(stream, 0);
    expect(await store.checkpointHasPassed('test.relay', stream)).toBe(false);
    await store.storeCheckpoint('test.relay', first.lastGlobalPosition);
    expect(await store.checkpointHasPassed('test.relay', stream)).toBe(true);
    await append(stream, 1);
    expect(await store.checkpointHasPassed('test.relay', stream)).toBe(false);
    expect(await store.checkpointHasPassed('another.relay', newStream())).toBe(true);
  });

  it('deletes events recorded before a time and the streams they empty, keeping the event a checkpoint names', async () => {
    const [gone, named, kept] = [newStream(), newStream(), newStream()];
    await append(gone, 0);
    await append(gone, 1);
    const checkpointed = await append(named, 0);
    await store.storeCheckpoint('delivery.health', checkpointed.lastGlobalPosition);
    const [boundary] = await store.readStream(named);
    await append(kept, 0);
    const [recent] = await store.readStream(kept);
    if (!boundary || !recent) throw new Error('appended events not read back');

    // Everything recorded before the newest event: the streams `gone` and `named` (and the earlier tests').
    const deleted = await store.deleteEventsRecordedBefore(recent.recordedAt);

    expect(deleted).toBeGreaterThanOrEqual(2);
    expect(await store.readStream(gone)).toEqual([]);
    expect(await store.streamVersion(gone)).toBe(0);
    expect((await store.readStream(named)).map((e) => e.eventId)).toEqual([boundary.eventId]);
    expect(await store.streamVersion(named)).toBe(1);
    expect((await store.readStream(kept)).map((e) => e.eventId)).toEqual([recent.eventId]);
    // The relay at the kept checkpoint reads on (a cursor naming a deleted event is refused).
    expect((await store.readPage({ after: checkpointed.lastGlobalPosition, limit: 10 })).events.map((e) => e.eventId)).toEqual([recent.eventId]);
  });
});
