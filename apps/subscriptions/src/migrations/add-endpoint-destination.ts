import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Endpoints may deliver to ActiveCampaign: the read model keeps the
 * destination as the API shows it (type, API URL, mapping, the token's last
 * four characters) — never the token, sealed or not. Existing rows are webhooks.
 */
export class AddEndpointDestination1764800000000 implements MigrationInterface {
  name = 'AddEndpointDestination1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE endpoints ADD COLUMN destination jsonb NOT NULL DEFAULT '{"type":"webhook"}'::jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE endpoints DROP COLUMN destination');
  }
}
