import { createTestDatabase, type TestDatabase } from '@gancho/testing';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { openServiceDataSource, type MigrationClass } from './service-data-source';

class CreateGreetings1700000000000 implements MigrationInterface {
  name = 'CreateGreetings1700000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE greetings (id bigserial PRIMARY KEY, text text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE greetings');
  }
}

class AddGreetingLanguage1700000000001 implements MigrationInterface {
  name = 'AddGreetingLanguage1700000000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query("ALTER TABLE greetings ADD COLUMN language text NOT NULL DEFAULT 'pt-BR'");
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE greetings DROP COLUMN language');
  }
}

// Scenarios, on the real PostgreSQL:
// - migrations create the service's schema and tables there, and are recorded;
// - a row written is read back;
// - opening again applies nothing twice; two services opening at once both succeed.
describe('service data source on a real PostgreSQL', () => {
  let database: TestDatabase;
  const open: DataSource[] = [];
  const openSource = async (migrations: MigrationClass[], schema = 'smoke') => {
    const ds = await openServiceDataSource({ url: database.url, schema, migrations, applicationName: 'gancho-test' });
    open.push(ds);
    return ds;
  };

  beforeAll(async () => {
    database = await createTestDatabase('persistence');
  });
  afterAll(async () => {
    await Promise.all(open.map((ds) => ds.destroy()));
    await database.drop();
  });

  it('migrates the service schema and round-trips a row', async () => {
    const ds = await openSource([CreateGreetings1700000000000, AddGreetingLanguage1700000000001]);

    const [{ table_schema }] = await ds.query("SELECT table_schema FROM information_schema.tables WHERE table_name = 'greetings'");
    expect(table_schema).toBe('smoke');
    const recorded = await ds.query('SELECT name FROM smoke.migrations ORDER BY id');
    expect(recorded.map((r: { name: string }) => r.name)).toEqual(['CreateGreetings1700000000000', 'AddGreetingLanguage1700000000001']);

    const [inserted] = await ds.query('INSERT INTO greetings (text) VALUES ($1) RETURNING id', ['olá, Gancho']);
    const [row] = await ds.query('SELECT text, language FROM greetings WHERE id = $1', [inserted.id]);
    expect(row).toEqual({ text: 'olá, Gancho', language: 'pt-BR' });
  });

  it('applies each migration once, even when two replicas start together', async () => {
    const migrations = [CreateGreetings1700000000000, AddGreetingLanguage1700000000001];
    const [a, b] = await Promise.all([openSource(migrations, 'concurrent'), openSource(migrations, 'concurrent')]);
    const [{ count }] = await a.query('SELECT count(*)::int AS count FROM concurrent.migrations');
    expect(count).toBe(2);
    await b.query("INSERT INTO greetings (text) VALUES ('oi')");
    const [{ rows }] = await a.query('SELECT count(*)::int AS rows FROM concurrent.greetings');
    expect(rows).toBe(1);

    const again = await openSource(migrations, 'concurrent');
    const [{ count: after }] = await again.query('SELECT count(*)::int AS count FROM concurrent.migrations');
    expect(after).toBe(2);
  });
});
