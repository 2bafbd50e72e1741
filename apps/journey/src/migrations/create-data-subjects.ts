import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Students as data subjects (LGPD): the key their personal fields are sealed
 * under, and the audit of erasures.
 *
 * - `data_subjects`: one row per subject. `email_index` is the blind index
 *   (HMAC-SHA256 of the normalised e-mail under PERSONAL_DATA_INDEX_KEY), so
 *   a subject is found by e-mail without storing it; `sealed_key` is the
 *   subject's 32-byte key sealed under the master key `master_key_id`
 *   (PERSONAL_DATA_MASTER_KEYS). Erasure sets both, and the index, to NULL:
 *   the key exists nowhere else in journey (never in the event store), so
 *   every sealed copy stops opening.
 * - `personal_data_erasures`: who erased which subject when, with which
 *   purchases, and the answer given (no personal data), so a repeated
 *   request answers the same.
 * - `purchases.subject_id`: the read model's student is `{ subject_id, sealed }`
 *   from now on; erasure redacts `sealed` in the same transaction.
 *
 * Rows written before this release hold the student in clear; the sealing
 * step at start (PersonalDataSealing) seals them once, with the events.
 */
export class CreateDataSubjects1764500000000 implements MigrationInterface {
  name = 'CreateDataSubjects1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE data_subjects (
        subject_id     text        PRIMARY KEY,
        email_index    text,
        key_id         text        NOT NULL,
        sealed_key     text,
        master_key_id  text,
        created_at     timestamptz NOT NULL DEFAULT now(),
        erased_at      timestamptz,
        CHECK ((erased_at IS NULL) = (sealed_key IS NOT NULL)),
        CHECK (erased_at IS NULL OR (email_index IS NULL AND master_key_id IS NULL))
      )`);
    await q.query('CREATE UNIQUE INDEX data_subjects_email_index ON data_subjects (email_index) WHERE email_index IS NOT NULL');
    // The re-seal step's question: keys still sealed under an older master key.
    await q.query('CREATE INDEX data_subjects_master_key ON data_subjects (master_key_id) WHERE master_key_id IS NOT NULL');
    await q.query(`
      CREATE TABLE personal_data_erasures (
        erasure_id    text        PRIMARY KEY,
        subject_id    text        NOT NULL UNIQUE REFERENCES data_subjects (subject_id),
        requested_by  text        NOT NULL,
        purchases     jsonb       NOT NULL,
        result        jsonb       NOT NULL,
        erased_at     timestamptz NOT NULL
      )`);
    await q.query('ALTER TABLE purchases ADD COLUMN subject_id text');
    await q.query('CREATE INDEX purchases_subject ON purchases (subject_id, purchase_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX purchases_subject');
    await q.query('ALTER TABLE purchases DROP COLUMN subject_id');
    await q.query('DROP TABLE personal_data_erasures');
    await q.query('DROP TABLE data_subjects');
  }
}
