// Statements the platform sent to PostgreSQL during a scenario, from
// pg_stat_statements on the bench's own server (reset at the start, read at
// the end), for one database. Every statement counts, BEGIN and COMMIT
// included (track_utility is on by default); the bench's own reads of the
// statistics views are left out.
import pg from 'pg';

export interface StatementCounts {
  calls: number;
  /** The most frequent statements: normalised text and calls. */
  top: { query: string; calls: number }[];
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function enableStatements(adminUrl: string): Promise<void> {
  await withClient(adminUrl, (client) => client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements'));
}

export async function resetStatements(adminUrl: string): Promise<void> {
  await withClient(adminUrl, (client) => client.query('SELECT pg_stat_statements_reset()'));
}

export async function statementsOf(adminUrl: string, database: string, topCount = 15): Promise<StatementCounts> {
  return withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ query: string; calls: string }>(
      `SELECT s.query, s.calls::text AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = $1 AND s.query NOT ILIKE '%pg_stat%' ORDER BY s.calls DESC`,
      [database],
    );
    return {
      calls: rows.reduce((sum, r) => sum + Number(r.calls), 0),
      top: rows.slice(0, topCount).map((r) => ({ query: r.query.replace(/\s+/g, ' ').slice(0, 200), calls: Number(r.calls) })),
    };
  });
}
