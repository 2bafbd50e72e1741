import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Endpoints may opt out of the student's personal fields (LGPD minimisation); existing rows keep receiving them. */
export class AddEndpointPersonalDataChoice1765321000000 implements MigrationInterface {
  name = 'AddEndpointPersonalDataChoice1765321000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE endpoints ADD COLUMN include_personal_data boolean NOT NULL DEFAULT true');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE endpoints DROP COLUMN include_personal_data');
  }
}
