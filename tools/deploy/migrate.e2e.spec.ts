import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@gancho/testing';
import { apps, repoRoot, type AppName } from './deploy-paths';

// Scenarios: each service's built `dist/migrate.js` (what the Helm hook Job
// and compose's migrate step run) creates its schema on an empty database
// and exits 0; a second run finds nothing to do and exits 0; an unreachable
// database exits 1 without printing the URL's password.

function runMigrate(app: AppName, databaseUrl: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, 'apps', app, 'dist', 'migrate.js')], { env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, NO_COLOR: '1' }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

async function tablesIn(url: string, schema: string): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema]);
    return result.rows.map((r) => r.table_name);
  } finally {
    await client.end();
  }
}

describe('migrate entry point', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('deploy_migrate');
  });
  afterAll(() => database.drop());

  it.each(apps)('migrates the %s schema on an empty database, then finds nothing to do', async (app) => {
    const first = await runMigrate(app, database.url);
    expect(first).toMatchObject({ code: 0, output: expect.stringContaining(`${app} schema is up to date`) });
    const tables = await tablesIn(database.url, app);
    expect(tables).toEqual(expect.arrayContaining(['migrations', 'idempotency_keys']));
    const client = new Client({ connectionString: database.url });
    await client.connect();
    const applied = (await client.query<{ count: string }>(`SELECT count(*) FROM "${app}".migrations`)).rows[0]?.count;
    await client.end();
    expect(Number(applied)).toBeGreaterThanOrEqual(3);

    const second = await runMigrate(app, database.url);
    expect(second.code).toBe(0);
    expect(await tablesIn(database.url, app)).toEqual(tables);
  });

  it('exits 1 when the database cannot be reached, and never prints the password', async () => {
    const result = await runMigrate('journey', 'postgres://gancho:do-not-print-me@127.0.0.1:1/gancho');
    expect(result.code).toBe(1);
    expect(result.output).toContain('migration failed');
    expect(result.output).not.toContain('do-not-print-me');
  });
});
