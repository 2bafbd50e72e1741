import { checkObject, isRfc3339, purchaseEventProblemsWith, type PurchaseStatusEventV1 } from './webhook-payload';

/**
 * Personal data of students (LGPD) as it travels between the services.
 *
 * A student is a data subject with a pseudonymous id (`subject_id`) that
 * journey assigns the first time it sees an e-mail. The subject's personal
 * fields (name, e-mail) travel as ONE value sealed by `@gancho/secret-box`
 * under the subject's own key, with the context `subject:<subject_id>`; the
 * plaintext is the JSON of `StudentPersonalData`. The subject key travels on
 * the compacted `journey.subject-keys.v1`, sealed under the transport key the
 * services share (`SECRETS_ENCRYPTION_KEY`) with the context
 * `subject-key:<subject_id>`; erasure destroys the key in journey and
 * publishes a tombstone there, so every sealed copy (events, topics, message
 * logs) stops opening at once.
 */

/** `sub_` and 32 random lower-case hex digits; says nothing about the student. */
export const subjectIdPattern = /^sub_[0-9a-f]{32}$/;

export function isSubjectId(value: unknown): value is string {
  return typeof value === 'string' && subjectIdPattern.test(value);
}

/** A value sealed by @gancho/secret-box: `v1.<key id>.<base64url>`. */
export const sealedValuePattern = /^v1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+$/;

/** The plaintext of a student's sealed personal fields (JSON). */
export interface StudentPersonalData {
  name: string;
  email: string;
}

/** The context the personal fields of a subject are sealed under (AES-GCM associated data). */
export function subjectDataContext(subjectId: string): string {
  return `subject:${subjectId}`;
}

/** The context a subject key is sealed under for transport on `journey.subject-keys.v1`. */
export function subjectKeyTransportContext(subjectId: string): string {
  return `subject-key:${subjectId}`;
}

/** The student on `journey.purchase-status.v2`: the pseudonymous id and the sealed personal fields. */
export interface SealedStudentV2 {
  subject_id: string;
  /** `StudentPersonalData` sealed under the subject key (context `subject:<subject_id>`); null when the subject was erased before publication. */
  sealed: string | null;
}

/** The value on `journey.purchase-status.v2`: the v1 value with the student sealed. */
export interface PurchaseStatusEventV2 extends Omit<PurchaseStatusEventV1, 'student'> {
  student: SealedStudentV2;
}

/**
 * A subject key on `journey.subject-keys.v1` (compacted, key = subject_id).
 * A tombstone (empty value) is the erasure: the key is gone.
 */
export interface SubjectKeyRecordV1 {
  subject_id: string;
  /** The SecretBox key id the subject's sealed values name (`v1.<key_id>.…`). */
  key_id: string;
  /** The 32-byte key, base64, sealed under the transport key with the context `subject-key:<subject_id>`. */
  sealed_key: string;
}

/** A personal-data erasure on `journey.personal-data-erasures.v1` (key = subject_id). No personal data. */
export interface PersonalDataErasureV1 {
  erasure_id: string;
  subject_id: string;
  /** Every purchase of the subject, so consumers purge their copies and tell the partners. */
  purchases: { purchase_id: string; partner_id: string }[];
  /** RFC 3339. */
  erased_at: string;
}

/** `sk_` and 16 random hex digits: a SecretBox key id (at most 32 characters). */
export const subjectKeyIdPattern = /^sk_[0-9a-f]{16}$/;
/** `era_` and 32 hex digits. */
export const erasureIdPattern = /^era_[0-9a-f]{32}$/;

const nonEmpty = (value: unknown): boolean => typeof value === 'string' && value.length > 0;
const isSealed = (value: unknown): boolean => typeof value === 'string' && sealedValuePattern.test(value);

/**
 * What is wrong with `value` as a `PurchaseStatusEventV2` (empty when it is
 * one): the v1 rules, the student as `{ subject_id, sealed }`. The same rules
 * as the topic's JSON Schema, without a schema engine, for consumers.
 */
export function purchaseStatusEventV2Problems(value: unknown, path = 'data'): string[] {
  return purchaseEventProblemsWith(value, path, (student, studentPath, problems) => {
    if (!checkObject(student, studentPath, ['subject_id', 'sealed'], problems)) return;
    if (!isSubjectId(student['subject_id'])) problems.push(`${studentPath}.subject_id: must be sub_ and 32 hex digits`);
    if (student['sealed'] !== null && !isSealed(student['sealed'])) problems.push(`${studentPath}.sealed: must be a sealed value (v1.<key id>.<payload>) or null`);
  });
}

export function isPurchaseStatusEventV2(value: unknown): value is PurchaseStatusEventV2 {
  return purchaseStatusEventV2Problems(value).length === 0;
}

/** What is wrong with `value` as a `SubjectKeyRecordV1` (empty when it is one). */
export function subjectKeyRecordProblems(value: unknown, path = 'value'): string[] {
  const problems: string[] = [];
  if (!checkObject(value, path, ['subject_id', 'key_id', 'sealed_key'], problems)) return problems;
  if (!isSubjectId(value['subject_id'])) problems.push(`${path}.subject_id: must be sub_ and 32 hex digits`);
  if (typeof value['key_id'] !== 'string' || !subjectKeyIdPattern.test(value['key_id'])) problems.push(`${path}.key_id: must be sk_ and 16 hex digits`);
  if (!isSealed(value['sealed_key'])) problems.push(`${path}.sealed_key: must be a sealed value (v1.<key id>.<payload>)`);
  return problems;
}

/** What is wrong with `value` as a `PersonalDataErasureV1` (empty when it is one). */
export function personalDataErasureProblems(value: unknown, path = 'value'): string[] {
  const problems: string[] = [];
  if (!checkObject(value, path, ['erasure_id', 'subject_id', 'purchases', 'erased_at'], problems)) return problems;
  if (typeof value['erasure_id'] !== 'string' || !erasureIdPattern.test(value['erasure_id'])) problems.push(`${path}.erasure_id: must be era_ and 32 hex digits`);
  if (!isSubjectId(value['subject_id'])) problems.push(`${path}.subject_id: must be sub_ and 32 hex digits`);
  if (!isRfc3339(value['erased_at'])) problems.push(`${path}.erased_at: must be an RFC 3339 date-time`);
  const purchases = value['purchases'];
  if (!Array.isArray(purchases)) {
    problems.push(`${path}.purchases: must be an array`);
    return problems;
  }
  purchases.forEach((purchase: unknown, i) => {
    const at = `${path}.purchases[${i}]`;
    if (!checkObject(purchase, at, ['purchase_id', 'partner_id'], problems)) return;
    if (!nonEmpty(purchase['purchase_id'])) problems.push(`${at}.purchase_id: must be a non-empty string`);
    if (!nonEmpty(purchase['partner_id'])) problems.push(`${at}.partner_id: must be a non-empty string`);
  });
  return problems;
}
