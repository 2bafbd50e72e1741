import type { DataSource } from 'typeorm';
import { subjectDataContext, subjectKeyRecordProblems, subjectKeyTransportContext, type StudentPersonalData, type SubjectKeyRecordV1 } from '@gancho/contracts';
import type { IncomingMessage } from '@gancho/messaging';
import { queryRows } from '@gancho/persistence';
import { SecretBox } from '@gancho/secret-box';

/** The context a subject key is sealed under in delivery's own table (not the transport's: a row copied onto the topic does not open). */
export const storedSubjectKeyContext = (subjectId: string): string => `delivery-subject-key:${subjectId}`;

/** What delivery knows of a subject when it builds a webhook: its key (the student opens), its erasure, or nothing yet (hold). */
export type SubjectKnowledge = { state: 'key'; box: SecretBox } | { state: 'erased' } | { state: 'unknown' };

/** A record of `journey.subject-keys.v1` as delivery applies it. */
export type SubjectKeyChange = { kind: 'key'; record: SubjectKeyRecordV1 } | { kind: 'erased'; subjectId: string } | { kind: 'unreadable'; problems: string[] };

export function readSubjectKeyRecord(record: IncomingMessage): SubjectKeyChange {
  if (record.value.length === 0) return record.key ? { kind: 'erased', subjectId: record.key } : { kind: 'unreadable', problems: ['tombstone without a key'] };
  let value: unknown;
  try {
    value = JSON.parse(record.value.toString('utf8'));
  } catch {
    return { kind: 'unreadable', problems: ['value is not JSON'] };
  }
  const problems = subjectKeyRecordProblems(value);
  if ((value as { subject_id?: unknown } | null)?.subject_id !== record.key) problems.push('value.subject_id does not equal the key');
  return problems.length > 0 ? { kind: 'unreadable', problems } : { kind: 'key', record: value as SubjectKeyRecordV1 };
}

/**
 * Delivery's copy of the subject keys (`subject_keys`), each re-sealed under
 * delivery's SECRETS_ENCRYPTION_KEY, and the erased subjects
 * (`erased_subjects`). A tombstone deletes the key and records the erasure;
 * a key record for an erased subject is never stored again.
 */
export class SubjectKeyStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly box: SecretBox,
  ) {}

  /** Stores a subject's key (opened from transport, sealed again for rest); throws when it does not open. */
  async storeKey(record: SubjectKeyRecordV1): Promise<void> {
    const key = this.box.open(record.sealed_key, subjectKeyTransportContext(record.subject_id));
    await this.dataSource.query(
      `INSERT INTO subject_keys (subject_id, key_id, sealed_key)
       SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM erased_subjects WHERE subject_id = $1)
       ON CONFLICT (subject_id) DO UPDATE SET key_id = EXCLUDED.key_id, sealed_key = EXCLUDED.sealed_key, stored_at = now()`,
      [record.subject_id, record.key_id, this.box.seal(key, storedSubjectKeyContext(record.subject_id))],
    );
  }

  /** Forgets a subject's key and remembers that it was erased (idempotent). */
  async erase(subjectId: string): Promise<void> {
    await this.dataSource.query(
      `WITH gone AS (DELETE FROM subject_keys WHERE subject_id = $1)
       INSERT INTO erased_subjects (subject_id) VALUES ($1) ON CONFLICT (subject_id) DO NOTHING`,
      [subjectId],
    );
  }

  /** What is known of each subject, in one statement. */
  async knowledgeOf(subjectIds: readonly string[]): Promise<Map<string, SubjectKnowledge>> {
    const known = new Map<string, SubjectKnowledge>(subjectIds.map((id) => [id, { state: 'unknown' }]));
    if (subjectIds.length === 0) return known;
    const rows = await queryRows<{ subject_id: string; key_id: string | null; sealed_key: string | null }>(
      this.dataSource,
      `SELECT s.id AS subject_id, k.key_id, k.sealed_key
         FROM unnest($1::text[]) AS s(id)
         LEFT JOIN subject_keys k ON k.subject_id = s.id
        WHERE k.subject_id IS NOT NULL OR EXISTS (SELECT 1 FROM erased_subjects e WHERE e.subject_id = s.id)`,
      [[...new Set(subjectIds)]],
    );
    for (const row of rows) {
      if (row.key_id === null || row.sealed_key === null) {
        known.set(row.subject_id, { state: 'erased' });
        continue;
      }
      const key = Buffer.from(this.box.open(row.sealed_key, storedSubjectKeyContext(row.subject_id)), 'base64');
      known.set(row.subject_id, { state: 'key', box: new SecretBox([{ id: row.key_id, key }]) });
    }
    return known;
  }
}

/** Opens a student's sealed personal fields with the subject's key. */
export function openStudent(box: SecretBox, subjectId: string, sealed: string): StudentPersonalData {
  const student = JSON.parse(box.open(sealed, subjectDataContext(subjectId))) as StudentPersonalData;
  return { name: student.name, email: student.email };
}
