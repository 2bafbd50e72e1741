import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Custom header values may be a receiver's credentials: the read model keeps
 * only what the API shows of them, `{"<name>": {"value_last4": …}}` (null for
 * a value shorter than 12 characters), never a value, sealed or not. Existing
 * rows held the values in the clear; this rewrites them. The event store is
 * not rewritten: events recorded with plain values are sealed when read, and
 * the endpoints relay republishes every state sealed once (see its name).
 */
export class SealEndpointHeaders1765100000000 implements MigrationInterface {
  name = 'SealEndpointHeaders1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE endpoints SET headers = (
        SELECT coalesce(jsonb_object_agg(h.key, jsonb_build_object('value_last4', CASE WHEN length(h.value #>> '{}') >= 12 THEN right(h.value #>> '{}', 4) END)), '{}'::jsonb)
        FROM jsonb_each(headers) AS h)
      WHERE EXISTS (SELECT 1 FROM jsonb_each(headers) AS h WHERE jsonb_typeof(h.value) = 'string')`);
  }

  async down(): Promise<void> {
    // The values are gone from the read model; they live sealed in the endpoint streams.
  }
}
