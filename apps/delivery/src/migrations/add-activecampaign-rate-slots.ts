import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ActiveCampaign allows 5 requests per second per account, whatever the
 * number of endpoints and delivery replicas calling it: one row per account
 * (its API URL) holds the next free request slot, reserved under the row's
 * lock, so every replica shares the same schedule.
 */
export class AddActiveCampaignRateSlots1764900000000 implements MigrationInterface {
  name = 'AddActiveCampaignRateSlots1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE activecampaign_rate_slots (
        account       text        PRIMARY KEY,
        next_slot_at  timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE activecampaign_rate_slots');
  }
}
