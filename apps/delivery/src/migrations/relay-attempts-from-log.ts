import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `delivery.attempts.v1` is published from the attempt rows themselves
 * instead of from an `AttemptMade` copy in the event store: each attempt row
 * gets a log position and the id of the transaction that wrote it, so the
 * attempts relay reads them in commit-safe order (as the event store's
 * `readAll` does), and one write per attempt is saved.
 *
 * Attempts already in the table were published (or will be, by the event
 * store relay, which still carries any `AttemptMade` events left from before
 * this migration): the attempts relay starts after them.
 */
export class RelayAttemptsFromLog1765000000000 implements MigrationInterface {
  name = 'RelayAttemptsFromLog1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE attempts ADD COLUMN log_position bigint GENERATED ALWAYS AS IDENTITY');
    await q.query('ALTER TABLE attempts ADD COLUMN transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id()');
    await q.query('ALTER TABLE attempts ADD COLUMN partner_id text');
    await q.query('ALTER TABLE attempts ADD COLUMN event_type text');
    await q.query('CREATE INDEX attempts_log_order ON attempts (transaction_id, log_position)');
    await q.query('CREATE UNIQUE INDEX attempts_log_position ON attempts (log_position)');
    // The relay's starting point: everything before now went out through the event store.
    await q.query(
      `INSERT INTO checkpoints (name, position) SELECT 'delivery.attempts-log', coalesce(max(log_position), 0) FROM attempts
       ON CONFLICT (name) DO NOTHING`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query("DELETE FROM checkpoints WHERE name = 'delivery.attempts-log'");
    await q.query('DROP INDEX attempts_log_position');
    await q.query('DROP INDEX attempts_log_order');
    await q.query('ALTER TABLE attempts DROP COLUMN event_type, DROP COLUMN partner_id, DROP COLUMN transaction_id, DROP COLUMN log_position');
  }
}
