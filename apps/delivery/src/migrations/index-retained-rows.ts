import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The retention job's questions (rows older than a period, the oldest row
 * left) answered from an index instead of a scan of the message log.
 */
export class IndexRetainedRows1765400000000 implements MigrationInterface {
  name = 'IndexRetainedRows1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX messages_created_at ON messages (created_at)');
    await q.query('CREATE INDEX attempts_partners_text_finished ON attempts (finished_at) WHERE response_snippet IS NOT NULL OR error_message IS NOT NULL');
    await q.query('CREATE INDEX held_status_events_held_at ON held_status_events (held_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX held_status_events_held_at');
    await q.query('DROP INDEX attempts_partners_text_finished');
    await q.query('DROP INDEX messages_created_at');
  }
}
