import { createServer } from 'node:net';
import { Body, Controller, Module, Post, Req, Res, type DynamicModule } from '@nestjs/common';
import { createTestDatabase, eventually, requireEnv, startTestService, type TestDatabase, type TestService } from '@gancho/testing';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import { Client } from 'pg';
import { DataSource, QueryFailedError, type MigrationInterface, type QueryRunner } from 'typeorm';
import { createServiceApp } from '../create-service-app';
import { ServiceCoreModule } from '../service-core.module';
import { isDatabaseUnavailable } from './database-unavailable';
import { IdempotencyService } from './idempotency';
import { toProblem } from './problem-details.filter';

class CreateNotes1700000000000 implements MigrationInterface {
  name = 'CreateNotes1700000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE notes (id bigserial PRIMARY KEY, text text NOT NULL UNIQUE)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE notes');
  }
}

/** Thrown to roll the probe's transaction back when its key was taken meanwhile. */
const keyTaken = new Error('idempotency key taken');

@Controller('notes')
class NotesController {
  constructor(
    private readonly idempotency: IdempotencyService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Writes a note, then holds its transaction open for a while: long enough to lose the connection under it. */
  @Post()
  async create(@Body() note: { text: string; holdMs?: number }, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.idempotency.respond<{ id: string }>('probe', req, res, 201, (claim) =>
      this.dataSource
        .transaction(async (manager) => {
          const [row] = await manager.query('INSERT INTO notes (text) VALUES ($1) RETURNING id', [note.text]);
          if (note.holdMs) await manager.query('SELECT pg_sleep($1)', [note.holdMs / 1000]);
          const body = { id: row.id };
          if (claim && (await manager.query(claim(body).sql, claim(body).parameters)).length === 0) throw keyTaken;
          return body;
        })
        .catch((error: unknown) => {
          if (error === keyTaken) return undefined;
          throw error;
        }),
    );
  }
}

@Module({ controllers: [NotesController] })
class NotesModule {}

const probeApp = (): DynamicModule => ({
  module: NotesModule,
  imports: [ServiceCoreModule.forRoot({ service: 'outage_probe', defaultPort: 0, migrations: [CreateNotes1700000000000] })],
});

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function errorOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the work to fail');
}

// Scenarios, with real PostgreSQL, pg and TypeORM errors (none constructed by hand):
// - a refused connection, a backend terminated under a query, and pg-pool's connect timeout are "database unavailable";
//   a unique violation, a syntax error and a division by zero are not;
// - over HTTP, a write whose connection is terminated mid-transaction answers 503 DATABASE_UNAVAILABLE with
//   Retry-After, writes nothing, and the client's retry with the same Idempotency-Key applies once;
// - an unexpected error stays a 500 without Retry-After.
describe('database unavailable: 503 with Retry-After, not 500', () => {
  let database: TestDatabase;
  let service: TestService;
  let admin: Client;

  beforeAll(async () => {
    database = await createTestDatabase('db_outage');
    service = await startTestService(() => createServiceApp(probeApp(), { logger: false }), { DATABASE_URL: database.url, KAFKA_BROKERS: requireEnv('KAFKA_BROKERS') });
    admin = new Client({ connectionString: database.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await service?.close();
    await database?.drop();
  });

  /** Terminates the backend running `pg_sleep` in this database (as a restart or failover would drop it). */
  const terminateSleepingBackend = () =>
    eventually(async () => {
      const { rows } = await admin.query(
        `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'SELECT pg_sleep%' AND state = 'active'`,
      );
      expect(rows).toEqual([{ terminated: true }]);
    });

  it('tells connection-level failures from refused queries', async () => {
    const deadPort = await closedPort();
    const refused = await errorOf(() => new DataSource({ type: 'postgres', url: `postgres://gancho:gancho@127.0.0.1:${deadPort}/gancho` }).initialize());
    const timedOut = await errorOf(async () => {
      // A listener that accepts and never speaks: pg-pool gives up after its connection timeout.
      const silent = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const dataSource = new DataSource({ type: 'postgres', url: `postgres://gancho:gancho@127.0.0.1:${(silent.address() as { port: number }).port}/gancho`, extra: { connectionTimeoutMillis: 200 } });
      try {
        await dataSource.initialize();
      } finally {
        silent.close();
        silent.unref();
      }
    });

    const dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    try {
      const runner = dataSource.createQueryRunner();
      const sleeping = errorOf(() => runner.query('SELECT pg_sleep(5)'));
      await terminateSleepingBackend();
      const terminated = await sleeping;
      expect(terminated).toBeInstanceOf(QueryFailedError);

      for (const [name, error] of Object.entries({ refused, timedOut, terminated })) {
        expect({ name, unavailable: isDatabaseUnavailable(error), problem: toProblem(error) }).toMatchObject({ name, unavailable: true, problem: { status: 503, code: 'DATABASE_UNAVAILABLE', retry_after_seconds: 2 } });
      }
    } finally {
      await dataSource.destroy();
    }

    // On a live connection of its own (a fresh pool: the terminated connection may still sit in the last one).
    const live = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    const session = live.createQueryRunner();
    try {
      await session.query('CREATE TEMP TABLE t (k text UNIQUE)');
      await session.query("INSERT INTO t VALUES ('a')");
      const refusedQueries = {
        uniqueViolation: await errorOf(() => session.query("INSERT INTO t VALUES ('a')")),
        syntax: await errorOf(() => session.query('SELEC 1')),
        divisionByZero: await errorOf(() => session.query('SELECT 1/0')),
      };
      for (const [name, error] of Object.entries(refusedQueries)) {
        expect(error).toBeInstanceOf(QueryFailedError);
        expect({ name, unavailable: isDatabaseUnavailable(error), problem: toProblem(error) }).toMatchObject({ name, unavailable: false, problem: { status: 500, code: 'INTERNAL_ERROR' } });
      }
    } finally {
      await session.release();
      await live.destroy();
    }
  });

  it('answers 503 DATABASE_UNAVAILABLE with Retry-After when the connection drops under a write; the retry applies once', async () => {
    const post = (body: unknown) => fetch(`${service.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'outage-key' }, body: JSON.stringify(body) });
    const pending = post({ text: 'written during an outage', holdMs: 5000 });
    await terminateSleepingBackend();
    const response = await pending;
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE', instance: '/notes' });
    const count = async () => Number((await admin.query("SELECT count(*) AS n FROM outage_probe.notes WHERE text = 'written during an outage'")).rows[0].n);
    expect(await count()).toBe(0);

    // The pool replaces the dropped connection; the same key now applies the write, once.
    const retried = await post({ text: 'written during an outage' });
    expect(retried.status).toBe(201);
    expect((await post({ text: 'written during an outage' })).headers.get('idempotent-replayed')).toBe('true');
    expect(await count()).toBe(1);
  });

  it('keeps a refused query a 500, without Retry-After', async () => {
    const once = await fetch(`${service.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'twice' }) });
    expect(once.status).toBe(201);
    const again = await fetch(`${service.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'twice' }) });
    expect(again.status).toBe(500);
    expect(again.headers.get('retry-after')).toBeNull();
    expect(await again.json()).toMatchObject({ code: 'INTERNAL_ERROR' });
  });
});
