import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Status events this release could not fully read (malformed, or from a newer
 * journey: an unknown type or field), kept exactly as they came so a delivery
 * that reads them delivers them at its start (must-understand: never acted on
 * partly, never dropped).
 */
export class HoldUnreadableStatusEvents1765100000000 implements MigrationInterface {
  name = 'HoldUnreadableStatusEvents1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE held_status_events (
        topic        text        NOT NULL,
        "partition"  int         NOT NULL,
        "offset"     bigint      NOT NULL,
        key          text,
        headers      jsonb       NOT NULL,
        value        bytea       NOT NULL,
        problems     text        NOT NULL,
        held_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (topic, "partition", "offset")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE held_status_events');
  }
}
