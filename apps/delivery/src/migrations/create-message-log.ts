import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The message log: one message per (status event, endpoint), its exact body,
 * where it stands, and every attempt. `message_id` is derived from the event
 * and endpoint ids, so consuming an event twice creates nothing twice.
 */
export class CreateMessageLog1764500000000 implements MigrationInterface {
  name = 'CreateMessageLog1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE messages (
        message_id       text        PRIMARY KEY,
        event_id         uuid        NOT NULL,
        endpoint_id      text        NOT NULL,
        partner_id       text        NOT NULL,
        event_type       text        NOT NULL,
        purchase_id      text        NOT NULL,
        payload          text        NOT NULL,
        status           text        NOT NULL DEFAULT 'pending',
        attempts         int         NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz,
        leased_until     timestamptz,
        last_attempt_at  timestamptz,
        last_status_code int,
        last_error       text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        event_recorded_at timestamptz NOT NULL,
        CONSTRAINT messages_status CHECK (status IN ('pending', 'sending', 'succeeded', 'failed', 'exhausted'))
      )`);
    // The dispatcher's question: what is due now (first attempts and retries apart).
    await q.query("CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status IN ('pending', 'sending')");
    await q.query('CREATE INDEX messages_partner_created ON messages (partner_id, created_at DESC, message_id DESC)');
    await q.query('CREATE INDEX messages_endpoint_created ON messages (endpoint_id, created_at DESC)');
    await q.query(`
      CREATE TABLE attempts (
        message_id       text        NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
        attempt_number   int         NOT NULL,
        endpoint_id      text        NOT NULL,
        started_at       timestamptz NOT NULL,
        finished_at      timestamptz NOT NULL,
        latency_ms       int         NOT NULL,
        status_code      int,
        error_class      text,
        error_message    text,
        response_snippet text,
        outcome          text        NOT NULL,
        next_attempt_at  timestamptz,
        PRIMARY KEY (message_id, attempt_number)
      )`);
    await q.query('CREATE INDEX attempts_endpoint_finished ON attempts (endpoint_id, finished_at)');
    await q.query(`
      CREATE TABLE endpoint_health (
        endpoint_id                    text PRIMARY KEY,
        partner_id                     text NOT NULL,
        last_success_at                timestamptz,
        first_failure_since_success_at timestamptz,
        consecutive_failures           int  NOT NULL DEFAULT 0,
        reported_at                    timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE attempts');
    await q.query('DROP TABLE messages');
    await q.query('DROP TABLE endpoint_health');
  }
}
