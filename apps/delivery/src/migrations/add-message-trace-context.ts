import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The W3C `traceparent` of the ingest span, kept with each message so every
 * attempt (retries days later, resends) continues the status change's trace
 * and hands it to the partner. Null for messages stored before tracing.
 */
export class AddMessageTraceContext1764700000000 implements MigrationInterface {
  name = 'AddMessageTraceContext1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages ADD COLUMN trace_context text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages DROP COLUMN trace_context');
  }
}
