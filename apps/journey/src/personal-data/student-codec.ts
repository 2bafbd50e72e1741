import { subjectDataContext, type SealedStudentV2, type StudentPersonalData } from '@gancho/contracts';
import { SecretBox } from '@gancho/secret-box';

/** A subject's key as journey holds it: the key while the subject lives, null once erased. */
export interface SubjectKey {
  subjectId: string;
  /** The SecretBox key id its sealed values name. */
  keyId: string;
  /** 32 bytes; null once the subject is erased (the key is destroyed). */
  key: Buffer | null;
  erasedAt: Date | null;
}

/**
 * What the domain sees of an erased student: the domain keeps plaintext
 * types, and an erased student's purchase still moves through statuses.
 * Never stored, never published: sealing it gives `sealed: null`.
 */
export const erasedStudent: StudentPersonalData = Object.freeze({ name: '', email: '' });

export function isSealedStudent(value: unknown): value is SealedStudentV2 {
  return typeof value === 'object' && value !== null && typeof (value as { subject_id?: unknown }).subject_id === 'string' && 'sealed' in value;
}

function boxOf(subject: SubjectKey & { key: Buffer }): SecretBox {
  return new SecretBox([{ id: subject.keyId, key: subject.key }]);
}

/**
 * The student's personal fields as ONE value sealed under the subject key
 * (AES-256-GCM, context `subject:<subject_id>`): what journey stores in its
 * events and read model and publishes on journey.purchase-status.v2.
 * `sealed` is null for an erased subject.
 */
export function sealStudent(subject: SubjectKey, student: StudentPersonalData): SealedStudentV2 {
  if (subject.key === null || student === erasedStudent) return { subject_id: subject.subjectId, sealed: null };
  const plaintext: StudentPersonalData = { name: student.name, email: student.email };
  return { subject_id: subject.subjectId, sealed: boxOf({ ...subject, key: subject.key }).seal(JSON.stringify(plaintext), subjectDataContext(subject.subjectId)) };
}

/** The personal fields of a sealed student, or undefined when they cannot be read any more (erased, or sealed null). */
export function openStudent(subject: SubjectKey | undefined, sealed: SealedStudentV2): StudentPersonalData | undefined {
  if (!subject || subject.key === null || sealed.sealed === null || subject.subjectId !== sealed.subject_id) return undefined;
  const parsed = JSON.parse(boxOf({ ...subject, key: subject.key }).open(sealed.sealed, subjectDataContext(subject.subjectId))) as StudentPersonalData;
  return { name: parsed.name, email: parsed.email };
}
