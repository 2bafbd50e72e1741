import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An endpoint's recovery, noted by the settle statement that records the
 * success after a failing spell (from the clock it resets, in the same
 * statement) and cleared once its `endpoint.recovered` messages are stored:
 * a crash in between leaves it noted, and the next settle of the endpoint
 * stores them.
 */
export class AddEndpointRecovery1765300000000 implements MigrationInterface {
  name = 'AddEndpointRecovery1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE endpoint_health ADD COLUMN recovered_from timestamptz, ADD COLUMN recovered_after_failures int, ADD COLUMN recovered_at timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE endpoint_health DROP COLUMN recovered_from, DROP COLUMN recovered_after_failures, DROP COLUMN recovered_at');
  }
}
