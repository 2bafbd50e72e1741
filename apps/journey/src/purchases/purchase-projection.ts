import type { EntityManager } from 'typeorm';
import { phaseOf, type Phase, type PurchaseStatus, type SealedStudentV2, type StudentPersonalData } from '@gancho/contracts';
import type { Purchase } from '@gancho/purchase-domain';
import { isSealedStudent, openStudent, type SubjectKey } from '../personal-data/student-codec';

/**
 * The student as the API shows it: the pseudonymous subject id with the
 * personal fields, or the erased marker once the subject's key is
 * destroyed; a command's answer shows the subject id only. (Only a row written before the LGPD release and not sealed
 * yet has no subject id.)
 */
export type StudentView = { subject_id: string; name: string; email: string } | { subject_id: string; erased: true; erased_at: string } | { subject_id: string } | StudentPersonalData;

/** A purchase as the API shows it (snake_case, like the webhook payload). */
export interface PurchaseView {
  purchase_id: string;
  partner_id: string;
  status: PurchaseStatus;
  previous_status: PurchaseStatus | null;
  phase: Phase;
  version: number;
  course: { id: string; name: string; price_cents: number; currency: string };
  student: StudentView;
  opened_at: string;
  status_changed_at: string;
  last_activity_at: string;
}

/** The student's view from what the purchase holds (plaintext in the domain) and the subject's key. */
export function studentView(student: StudentPersonalData, subject: SubjectKey | undefined): StudentView {
  if (!subject) return { name: student.name, email: student.email };
  if (subject.key === null) return erasedStudentView(subject, subject.subjectId);
  return { subject_id: subject.subjectId, name: student.name, email: student.email };
}

function erasedStudentView(subject: SubjectKey | undefined, subjectId: string): StudentView {
  return { subject_id: subject?.subjectId ?? subjectId, erased: true, erased_at: (subject?.erasedAt ?? new Date(0)).toISOString() };
}

export function purchaseView(purchase: Purchase, previousStatus: PurchaseStatus | null, student: StudentView): PurchaseView {
  return {
    purchase_id: purchase.purchaseId,
    partner_id: purchase.partnerId,
    status: purchase.status,
    previous_status: previousStatus,
    phase: phaseOf(purchase.status),
    version: purchase.version,
    course: { id: purchase.course.id, name: purchase.course.name, price_cents: purchase.course.priceCents, currency: purchase.course.currency },
    student,
    opened_at: purchase.openedAt,
    status_changed_at: purchase.statusChangedAt,
    last_activity_at: purchase.lastActivityAt,
  };
}

/**
 * The statement that writes the purchase's row, when `condition` holds (SQL);
 * an older version never overwrites a newer one.
 */
export function projectionStatement(view: PurchaseView, student: SealedStudentV2, condition = 'true'): { sql: string; parameters: unknown[] } {
  // The row holds the student sealed, never in clear; a row an erasure redacted stays redacted (sealed null wins).
  return {
    sql: `INSERT INTO purchases (purchase_id, partner_id, status, previous_status, phase, course, student, version, opened_at, status_changed_at, last_activity_at, subject_id)
     SELECT $1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::int, $9::timestamptz, $10::timestamptz, $11::timestamptz, $12 WHERE ${condition}
     ON CONFLICT (purchase_id) DO UPDATE SET
       status = EXCLUDED.status, previous_status = EXCLUDED.previous_status, phase = EXCLUDED.phase,
       version = EXCLUDED.version, status_changed_at = EXCLUDED.status_changed_at, last_activity_at = EXCLUDED.last_activity_at,
       subject_id = EXCLUDED.subject_id,
       student = CASE WHEN purchases.subject_id IS NOT NULL AND purchases.student->'sealed' = 'null'::jsonb THEN purchases.student ELSE EXCLUDED.student END
     WHERE purchases.version < EXCLUDED.version`,
    parameters: [
      view.purchase_id,
      view.partner_id,
      view.status,
      view.previous_status,
      view.phase,
      JSON.stringify(view.course),
      JSON.stringify(student),
      view.version,
      view.opened_at,
      view.status_changed_at,
      view.last_activity_at,
      student.subject_id,
    ],
  };
}

interface PurchaseRow {
  purchase_id: string;
  partner_id: string;
  status: PurchaseStatus;
  previous_status: PurchaseStatus | null;
  phase: Phase;
  version: number;
  course: PurchaseView['course'];
  /** Sealed; in clear only on a row from before the LGPD release not sealed yet. */
  student: SealedStudentV2 | StudentPersonalData;
  subject_id: string | null;
  opened_at: Date;
  status_changed_at: Date;
  last_activity_at: Date;
}

/** The API view of a row, its student opened with the subject's key (`keys`, by subject id). */
export function viewOfRow(row: PurchaseRow, keys: ReadonlyMap<string, SubjectKey>): PurchaseView {
  const { subject_id: subjectId, student, ...rest } = row;
  const subject = subjectId === null ? undefined : keys.get(subjectId);
  const plain = isSealedStudent(student) ? openStudent(subject, student) : student;
  return {
    ...rest,
    // A sealed student that does not open is an erased one (its key is gone).
    student: plain ? studentView(plain, subject) : erasedStudentView(subject, isSealedStudent(student) ? student.subject_id : ''),
    opened_at: row.opened_at.toISOString(),
    status_changed_at: row.status_changed_at.toISOString(),
    last_activity_at: row.last_activity_at.toISOString(),
  };
}

export interface PurchaseListQuery {
  partnerId?: string;
  status?: PurchaseStatus;
  /** The last purchase id of the previous page. */
  after?: string;
  limit: number;
}

/** Newest first is not needed by callers; id order is creation order (ids are time-ordered) and stable under inserts. */
export async function listPurchases(
  manager: EntityManager,
  query: PurchaseListQuery,
  keysOf: (subjectIds: string[]) => Promise<ReadonlyMap<string, SubjectKey>>,
): Promise<{ items: PurchaseView[]; nextCursor: string | null }> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (query.partnerId) conditions.push(`partner_id = $${params.push(query.partnerId)}`);
  if (query.status) conditions.push(`status = $${params.push(query.status)}`);
  if (query.after) conditions.push(`purchase_id > $${params.push(query.after)}`);
  const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  const rows: PurchaseRow[] = await manager.query(`SELECT * FROM purchases ${where} ORDER BY purchase_id LIMIT $${params.push(query.limit + 1)}`, params);
  const page = rows.slice(0, query.limit);
  const keys = await keysOf(page.flatMap((row) => (row.subject_id === null ? [] : [row.subject_id])));
  return { items: page.map((row) => viewOfRow(row, keys)), nextCursor: rows.length > query.limit ? (page.at(-1)?.purchase_id ?? null) : null };
}
