import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event store's tables, created in the current schema (the service's own,
 * through `search_path`), so each service that lists this migration gets its
 * own copy.
 */
export class CreateEventStore1764300000000 implements MigrationInterface {
  name = 'CreateEventStore1764300000000';

  async up(q: QueryRunner): Promise<void> {
    // One row per stream: appenders lock it to check the expected version, so
    // a conflict is found before any insert (never a unique violation), and it
    // remembers the last writing transaction (see PostgresEventStore).
    await q.query(`
      CREATE TABLE streams (
        stream_id text PRIMARY KEY,
        version int NOT NULL,
        last_transaction_id xid8 NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE events (
        global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        stream_id text NOT NULL,
        stream_version int NOT NULL,
        type text NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        UNIQUE (stream_id, stream_version)
      )`);
    // readAll walks the log in (transaction_id, global_position) order.
    await q.query('CREATE INDEX events_transaction_order ON events (transaction_id, global_position)');
    await q.query(`
      CREATE TABLE checkpoints (
        name text PRIMARY KEY,
        position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE checkpoints');
    await q.query('DROP TABLE events');
    await q.query('DROP TABLE streams');
  }
}
