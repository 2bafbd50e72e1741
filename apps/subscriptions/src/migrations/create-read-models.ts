import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read models behind the listings, written in the same transaction as the
 * events they come from, so they never lag their streams. No secret is kept
 * here: signing secrets live only sealed, in the endpoint streams.
 */
export class CreateSubscriptionsReadModels1764500000000 implements MigrationInterface {
  name = 'CreateSubscriptionsReadModels1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE partners (
        partner_id  text        PRIMARY KEY,
        name        text        NOT NULL,
        version     int         NOT NULL,
        created_at  timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        key_id          text        PRIMARY KEY,
        partner_id      text        NOT NULL,
        display_prefix  text        NOT NULL,
        created_at      timestamptz NOT NULL,
        revoked_at      timestamptz
      )`);
    await q.query('CREATE INDEX api_keys_partner ON api_keys (partner_id, key_id)');
    await q.query(`
      CREATE TABLE endpoints (
        endpoint_id            text        PRIMARY KEY,
        partner_id             text        NOT NULL,
        url                    text        NOT NULL,
        description            text        NOT NULL,
        event_types            jsonb       NOT NULL,
        enabled                boolean     NOT NULL,
        disabled_reason        text,
        disabled_detail        text,
        disabled_at            timestamptz,
        headers                jsonb       NOT NULL,
        rate_limit_per_second  int,
        ordering               text        NOT NULL,
        version                int         NOT NULL,
        created_at             timestamptz NOT NULL,
        updated_at             timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX endpoints_partner ON endpoints (partner_id, endpoint_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE endpoints');
    await q.query('DROP TABLE api_keys');
    await q.query('DROP TABLE partners');
  }
}
