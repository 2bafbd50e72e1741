import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The operational-events relay (`subscriptions.operational-events`) starts at
 * the head of the event store: on an existing installation, endpoints
 * disabled or enabled before the upgrade are not announced as news.
 */
export class StartOperationalEventsAtHead1765300000000 implements MigrationInterface {
  name = 'StartOperationalEventsAtHead1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`INSERT INTO checkpoints (name, position) SELECT 'subscriptions.operational-events', coalesce(max(global_position), 0) FROM events ON CONFLICT (name) DO NOTHING`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM checkpoints WHERE name = 'subscriptions.operational-events'`);
  }
}
