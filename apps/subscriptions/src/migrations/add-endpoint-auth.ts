import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Endpoint authentication (Basic, OAuth 2.0 client credentials, mTLS) as the
 * API shows it — never a secret, sealed or not — one row per endpoint that
 * has one, kept beside `endpoints` (written in the same statement).
 */
export class AddEndpointAuth1765300000000 implements MigrationInterface {
  name = 'AddEndpointAuth1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE endpoint_auth (endpoint_id text PRIMARY KEY, auth jsonb NOT NULL, version int NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE endpoint_auth');
  }
}
