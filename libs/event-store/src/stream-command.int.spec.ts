import { randomUUID } from 'node:crypto';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { openServiceDataSource } from '@gancho/persistence';
import { startTelemetry } from '@gancho/telemetry';
import { createTestDatabase, eventually, type TestDatabase } from '@gancho/testing';
import type { DataSource } from 'typeorm';
import { StreamVersionConflictError } from './errors';
import { CreateEventStore1764300000000 } from './migrations/create-event-store';
import { PostgresEventStore, WHEN_APPENDED } from './postgres-event-store';
import { handleStreamCommand, type CommandContext, type StreamCommand, type StreamModel } from './stream-command';
import type { SqlPart } from './types';

// Scenarios for handleStreamCommand on the real PostgreSQL (schema "journey"):
// - a command reads, folds, decides and appends after the version read, with the context and its own
//   metadata on each event and the read model written in the same statement; spans command.handle
//   with an eventStore.appendToStream child;
// - a writer in between (or a caller's If-Match of another version) is a conflict that writes
//   nothing, not even the idempotency claim; the caller's retry with the same key reads again,
//   decides on the newer state and appends;
// - with an idempotency key's claim as the gate: the claim, the events and the read model commit
//   together; the same key again writes nothing and the stored answer is there to replay;
// - in the caller's transaction the command commits or rolls back with it; a decision without
//   events appends nothing.

type CounterEvent = { type: 'Added'; data: { amount: number } };
type Counter = { total: number };
const counter: StreamModel<Counter, CounterEvent> = {
  initialState: { total: 0 },
  evolve: (state, event) => ({ total: state.total + event.data.amount }),
};
const add = (streamId: string, amount: number): StreamCommand<Counter, CounterEvent> => ({
  streamId,
  type: 'Add',
  decide: () => [{ type: 'Added', data: { amount } }],
});

describe('handleStreamCommand on a real PostgreSQL', () => {
  const exporter = new InMemorySpanExporter();
  const telemetry = startTelemetry({ serviceName: 'event-store-test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;

  const newStream = () => `counter:${randomUUID()}`;
  const totals = (streamId: string, total: number): SqlPart => ({
    sql: `INSERT INTO totals (stream_id, total) SELECT $1, $2::int WHERE ${WHEN_APPENDED}
          ON CONFLICT (stream_id) DO UPDATE SET total = EXCLUDED.total`,
    parameters: [streamId, total],
  });
  const claim = (key: string, answer: Counter): SqlPart => ({
    sql: 'INSERT INTO claims (key, answer) VALUES ($1, $2::jsonb) ON CONFLICT DO NOTHING RETURNING 1',
    parameters: [key, JSON.stringify(answer)],
  });
  const run = (command: StreamCommand<Counter, CounterEvent>, context: CommandContext = {}, gateKey?: string) =>
    handleStreamCommand(store, counter, command, context, {
      metadataOf: (_, before) => ({ totalBefore: before.total }),
      alongside: (after) => [totals(command.streamId, after.total)],
      ...(gateKey ? { gate: (after: Counter) => claim(gateKey, after) } : {}),
    });
  const rows = (sql: string, parameters: unknown[]) => dataSource.query(sql, parameters) as Promise<Record<string, unknown>[]>;
  const totalOf = async (streamId: string) => (await rows('SELECT total FROM totals WHERE stream_id = $1', [streamId]))[0]?.['total'];
  const conflictOf = async (promise: Promise<unknown>) => {
    const error: unknown = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamVersionConflictError);
    return error as StreamVersionConflictError;
  };

  /**
   * Runs `command` while another transaction appends `amount` to the
   * stream: the command reads the version before, then its append waits on
   * the other writer's row lock, which commits. Answers what the command threw.
   */
  async function whileAnotherWriterAppends(streamId: string, amount: number, command: () => Promise<unknown>): Promise<unknown> {
    const other = dataSource.createQueryRunner();
    await other.connect();
    try {
      await other.startTransaction();
      const version = await store.streamVersion(streamId);
      await store.appendToStream(streamId, [{ eventId: randomUUID(), type: 'Added', data: { amount }, metadata: {} }], { expectedVersion: version, manager: other.manager });
      const first = command().then(
        () => 'appended',
        (e: unknown) => e,
      );
      await eventually(async () => {
        const [{ waiting }] = await dataSource.query("SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
        expect(waiting).toBe(1);
      });
      await other.commitTransaction();
      return await first;
    } finally {
      await other.release();
    }
  }

  beforeAll(async () => {
    database = await createTestDatabase('stream_command');
    dataSource = await openServiceDataSource({ url: database.url, schema: 'journey', migrations: [CreateEventStore1764300000000], applicationName: 'gancho-test' });
    await dataSource.query('CREATE TABLE totals (stream_id text PRIMARY KEY, total int NOT NULL)');
    await dataSource.query('CREATE TABLE claims (key text PRIMARY KEY, answer jsonb NOT NULL)');
    store = new PostgresEventStore(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
    await telemetry.shutdown();
  });
  beforeEach(() => exporter.reset());

  it('appends after the version read, with metadata, the read model and the spans', async () => {
    const streamId = newStream();
    await run(add(streamId, 2), { correlationId: 'corr-1', causationId: 'test' });
    const second = await run(add(streamId, 3), { correlationId: 'corr-2' });

    expect(second).toMatchObject({ outcome: 'appended', version: 1, before: { total: 2 }, after: { total: 5 } });
    const events = await store.readStream(streamId);
    expect(events.map((e) => [e.streamVersion, e.data])).toEqual([
      [1, { amount: 2 }],
      [2, { amount: 3 }],
    ]);
    expect(events[0]?.metadata).toMatchObject({ correlationId: 'corr-1', causationId: 'test', totalBefore: 0, traceparent: expect.stringMatching(/^00-/) });
    expect(events[1]?.metadata).toMatchObject({ correlationId: 'corr-2', totalBefore: 2 });
    expect(await totalOf(streamId)).toBe(5);

    const spans = exporter.getFinishedSpans();
    const handle = spans.filter((s) => s.name === 'command.handle').at(-1);
    const append = spans.filter((s) => s.name === 'eventStore.appendToStream').at(-1);
    expect(handle?.attributes).toMatchObject({ 'gancho.stream.id': streamId, 'gancho.command.type': 'Add', 'gancho.events.appended': 1 });
    expect(append?.parentSpanContext?.spanId).toBe(handle?.spanContext().spanId);
    // The stored trace context is the command's span, so the relay continues this trace.
    expect(events[1]?.metadata.traceparent).toContain(handle?.spanContext().spanId);
  });

  it('refuses a writer that came in between, writing nothing, and the retry decides on the newer state', async () => {
    const streamId = newStream();
    const key = randomUUID();
    await run(add(streamId, 1));

    const conflict = await whileAnotherWriterAppends(streamId, 40, () => run(add(streamId, 2), {}, key));

    expect(conflict).toMatchObject({ code: 'STREAM_VERSION_CONFLICT', expected: 1, actual: 2 });
    // Nothing of the command was written: no event, no read-model row of its own, no claim.
    expect(await store.streamVersion(streamId)).toBe(2);
    expect(await totalOf(streamId)).toBe(1);
    expect(conflict).toBeInstanceOf(StreamVersionConflictError);
    expect(await rows('SELECT 1 FROM claims WHERE key = $1', [key])).toEqual([]);
    // The caller retries with the same key: the command reads version 2 and decides again.
    const retried = await run(add(streamId, 2), {}, key);
    expect(retried).toMatchObject({ outcome: 'appended', version: 2, after: { total: 43 } });
    expect(await totalOf(streamId)).toBe(43);
    expect(await rows('SELECT answer FROM claims WHERE key = $1', [key])).toEqual([{ answer: { total: 43 } }]);
  });

  it('refuses a caller that expected another version before appending anything', async () => {
    const streamId = newStream();
    await run(add(streamId, 1));
    const refused = await conflictOf(run(add(streamId, 5), { expectedVersion: 0 }));

    expect(refused).toMatchObject({ code: 'STREAM_VERSION_CONFLICT', expected: 0, actual: 1 });
    expect(await store.streamVersion(streamId)).toBe(1);
    expect(await totalOf(streamId)).toBe(1);
    expect(await run(add(streamId, 5), { expectedVersion: 1 })).toMatchObject({ outcome: 'appended', after: { total: 6 } });
  });

  it('commits an idempotency claim with the events and the read model, and writes nothing for the same key again', async () => {
    const streamId = newStream();
    const key = randomUUID();

    const first = await run(add(streamId, 7), {}, key);
    const replay = await run(add(streamId, 7), {}, key);

    expect(first.outcome).toBe('appended');
    expect(replay).toMatchObject({ outcome: 'gate_closed', version: 1 });
    expect(await store.streamVersion(streamId)).toBe(1);
    expect(await totalOf(streamId)).toBe(7);
    // The answer the first command stored is there to replay.
    expect(await rows('SELECT answer FROM claims WHERE key = $1', [key])).toEqual([{ answer: { total: 7 } }]);
  });

  it('runs in the caller’s transaction, committing or rolling back with it', async () => {
    const kept = newStream();
    const rolledBack = newStream();

    await dataSource.transaction((manager) => handleStreamCommand(store, counter, add(kept, 4), {}, { manager, alongside: (after) => [totals(kept, after.total)] }));
    await dataSource
      .transaction(async (manager) => {
        await handleStreamCommand(store, counter, add(rolledBack, 4), {}, { manager, alongside: (after) => [totals(rolledBack, after.total)] });
        throw new Error('the caller gives up');
      })
      .catch(() => undefined);

    expect([await store.streamVersion(kept), await totalOf(kept)]).toEqual([1, 4]);
    expect([await store.streamVersion(rolledBack), await totalOf(rolledBack)]).toEqual([0, undefined]);
  });

  it('appends nothing when the decision makes no event', async () => {
    const streamId = newStream();
    const result = await run({ streamId, decide: () => [] });

    expect(result).toMatchObject({ outcome: 'unchanged', version: 0, events: [] });
    expect(await store.streamVersion(streamId)).toBe(0);
    expect(await totalOf(streamId)).toBeUndefined();
  });
});
