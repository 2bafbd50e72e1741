/** Anything with TypeORM's `query` (a DataSource, an EntityManager, a QueryRunner). */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * The rows a statement returned. TypeORM's PostgreSQL driver answers
 * `UPDATE … RETURNING` and `DELETE … RETURNING` with `[rows, affectedCount]`
 * but every other statement with the rows alone; this evens that out.
 */
export async function queryRows<T = Record<string, unknown>>(db: Queryable, sql: string, parameters: unknown[] = []): Promise<T[]> {
  const result = await db.query(sql, parameters);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
