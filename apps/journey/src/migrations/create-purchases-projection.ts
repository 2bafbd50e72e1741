import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The read model behind `GET /purchases` and the inactivity scheduler. It is
 * updated in the same transaction as the append, so it never lags its stream.
 */
export class CreatePurchasesProjection1764400000000 implements MigrationInterface {
  name = 'CreatePurchasesProjection1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE purchases (
        purchase_id        text        PRIMARY KEY,
        partner_id         text        NOT NULL,
        status             text        NOT NULL,
        previous_status    text,
        phase              text        NOT NULL,
        course             jsonb       NOT NULL,
        student            jsonb       NOT NULL,
        version            int         NOT NULL,
        opened_at          timestamptz NOT NULL,
        status_changed_at  timestamptz NOT NULL,
        last_activity_at   timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX purchases_partner_status ON purchases (partner_id, status, purchase_id)');
    await q.query('CREATE INDEX purchases_status ON purchases (status, purchase_id)');
    // The scheduler's two questions: open purchases idle since…, inactive links since…
    await q.query("CREATE INDEX purchases_open_idle ON purchases (last_activity_at) WHERE phase = 'open'");
    await q.query("CREATE INDEX purchases_inactive_since ON purchases (status_changed_at) WHERE status = 'link_inactive'");
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE purchases');
  }
}
