import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ordered delivery per purchase, for endpoints that ask for it: a message
 * knows its event's sequence and whether its endpoint wanted order when it
 * was created; `skipped` is the partner giving up on one message so the next
 * can go.
 */
export class AddOrderedDelivery1764600000000 implements MigrationInterface {
  name = 'AddOrderedDelivery1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages ADD COLUMN sequence int NOT NULL DEFAULT 0');
    await q.query('ALTER TABLE messages ADD COLUMN ordered boolean NOT NULL DEFAULT false');
    await q.query('ALTER TABLE messages DROP CONSTRAINT messages_status');
    await q.query("ALTER TABLE messages ADD CONSTRAINT messages_status CHECK (status IN ('pending', 'sending', 'succeeded', 'failed', 'exhausted', 'skipped'))");
    // The dispatcher's question for an ordered message: is an earlier one of the same purchase still unsettled?
    await q.query("CREATE INDEX messages_ordered_unsettled ON messages (endpoint_id, purchase_id, sequence) WHERE ordered AND status IN ('pending', 'sending')");
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX messages_ordered_unsettled');
    await q.query('ALTER TABLE messages DROP CONSTRAINT messages_status');
    await q.query("ALTER TABLE messages ADD CONSTRAINT messages_status CHECK (status IN ('pending', 'sending', 'succeeded', 'failed', 'exhausted'))");
    await q.query('ALTER TABLE messages DROP COLUMN ordered');
    await q.query('ALTER TABLE messages DROP COLUMN sequence');
  }
}
