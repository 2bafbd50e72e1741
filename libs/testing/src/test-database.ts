import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { requireEnv } from './env';

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database, closing any connection left open to it. */
  drop(): Promise<void>;
}

async function withAdminClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: requireEnv('DATABASE_URL') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, empty database on the test server, for one test file. Creating a
 * database costs milliseconds; sharing one between files shares mutable state.
 */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `${label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30)}_${randomBytes(5).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(requireEnv('DATABASE_URL'));
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}
