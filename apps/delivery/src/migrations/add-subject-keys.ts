import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * LGPD: the subject keys delivery received on `journey.subject-keys.v1`
 * (re-sealed at rest under SECRETS_ENCRYPTION_KEY), the subjects erased
 * (their tombstones: a key that arrives late is never stored again), and
 * status events held until their subject's key arrives; and the
 * ActiveCampaign contact ids synced per subject, so an erasure can delete them.
 */
export class AddSubjectKeys1765322000000 implements MigrationInterface {
  name = 'AddSubjectKeys1765322000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE subject_keys (
        subject_id  text        PRIMARY KEY,
        key_id      text        NOT NULL,
        sealed_key  text        NOT NULL,
        stored_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE erased_subjects (
        subject_id  text        PRIMARY KEY,
        erased_at   timestamptz NOT NULL DEFAULT now()
      )`);
    // Set on a readable status event held only because its subject's key has not arrived yet.
    await q.query('ALTER TABLE held_status_events ADD COLUMN awaiting_subject_id text');
    // A contact's e-mail may change in AC; every id synced for the subject is kept (each a pseudonymous pair, no personal data).
    await q.query(`
      CREATE TABLE activecampaign_contacts (
        endpoint_id text        NOT NULL,
        subject_id  text        NOT NULL,
        contact_id  text        NOT NULL,
        synced_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (endpoint_id, subject_id, contact_id)
      )`);
    await q.query('CREATE INDEX held_status_events_awaiting ON held_status_events (awaiting_subject_id) WHERE awaiting_subject_id IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE activecampaign_contacts');
    await q.query('ALTER TABLE held_status_events DROP COLUMN awaiting_subject_id');
    await q.query('DROP TABLE erased_subjects');
    await q.query('DROP TABLE subject_keys');
  }
}
