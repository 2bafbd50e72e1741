// What the database did for a scenario: transactions committed and rows
// written per table, from PostgreSQL's cumulative statistics views (deltas
// between two snapshots). The views are flushed about once a second, so the
// bench waits a moment before the last snapshot.
import pg from 'pg';

export interface PgSnapshot {
  commits: number;
  tables: Record<string, { inserted: number; updated: number; deleted: number }>;
}

export async function pgSnapshot(databaseUrl: string): Promise<PgSnapshot> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const db = await client.query<{ commits: string }>('SELECT xact_commit::text AS commits FROM pg_stat_database WHERE datname = current_database()');
    const rows = await client.query<{ name: string; ins: string; upd: string; del: string }>(
      `SELECT schemaname || '.' || relname AS name, n_tup_ins::text AS ins, n_tup_upd::text AS upd, n_tup_del::text AS del FROM pg_stat_user_tables`,
    );
    return {
      commits: Number(db.rows[0]?.commits ?? 0),
      tables: Object.fromEntries(rows.rows.map((r) => [r.name, { inserted: Number(r.ins), updated: Number(r.upd), deleted: Number(r.del) }])),
    };
  } finally {
    await client.end();
  }
}

/** Per delivery: commits, and rows written per table (only tables that were written). */
export function pgPerDelivery(before: PgSnapshot, after: PgSnapshot, deliveries: number): { commits: number; rowsWritten: Record<string, number> } {
  const per = (n: number) => Math.round((n / Math.max(1, deliveries)) * 100) / 100;
  const rowsWritten: Record<string, number> = {};
  for (const [name, t] of Object.entries(after.tables)) {
    const b = before.tables[name] ?? { inserted: 0, updated: 0, deleted: 0 };
    const written = t.inserted - b.inserted + (t.updated - b.updated) + (t.deleted - b.deleted);
    if (written > 0) rowsWritten[name] = per(written);
  }
  return { commits: per(after.commits - before.commits), rowsWritten };
}
