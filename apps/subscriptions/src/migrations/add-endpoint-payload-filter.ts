import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Endpoints may have a payload filter (docs/filters.md); the read model keeps it as the partner wrote it, null for none. */
export class AddEndpointPayloadFilter1765400000000 implements MigrationInterface {
  name = 'AddEndpointPayloadFilter1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE endpoints ADD COLUMN payload_filter jsonb');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE endpoints DROP COLUMN payload_filter');
  }
}
