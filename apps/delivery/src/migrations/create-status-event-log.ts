import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The status-event log behind `GET /events`: one row per status event a
 * partner had, whether or not an endpoint took it (the message log has rows
 * only for routed events). Written by ingest in the statement that stores the
 * messages; never updated; purged after EVENTS_RETENTION_MS.
 */
export class CreateStatusEventLog1765200000000 implements MigrationInterface {
  name = 'CreateStatusEventLog1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE status_events (
        event_id     uuid        PRIMARY KEY,
        partner_id   text        NOT NULL,
        event_type   text        NOT NULL,
        purchase_id  text        NOT NULL,
        sequence     int         NOT NULL,
        occurred_at  timestamptz NOT NULL,
        ingested_at  timestamptz NOT NULL DEFAULT now(),
        -- The messages ingest made for it (one per endpoint routed): the delivery state is read by primary key, so
        -- the message log needs no index of its own for this API.
        message_ids  text[]      NOT NULL,
        -- The webhook body, as the partner's endpoints receive it (nothing more).
        payload      text        NOT NULL
      )`);
    // The API's order (newest first, event id breaking ties) under each filter: the partner alone or with a time range,
    // by event type (also the undelivered-to-X filter, which takes the endpoint's types), by purchase. Each answers a
    // page by walking one index in order from the cursor, with no sort.
    await q.query('CREATE INDEX status_events_partner_time ON status_events (partner_id, occurred_at DESC, event_id DESC)');
    await q.query('CREATE INDEX status_events_partner_type_time ON status_events (partner_id, event_type, occurred_at DESC, event_id DESC)');
    await q.query('CREATE INDEX status_events_partner_purchase_time ON status_events (partner_id, purchase_id, occurred_at DESC, event_id DESC)');
    // Retention deletes by ingest time, which grows with the table: a BRIN index costs almost nothing per insert.
    await q.query('CREATE INDEX status_events_ingested ON status_events USING brin (ingested_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE status_events');
  }
}
