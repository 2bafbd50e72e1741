import { eventTypeOf, isEventType, statusOfEventType, type EventType } from './event-types';
import { isSubjectId } from './personal-data';
import { isPurchaseStatus, phaseOf, purchaseStatuses, type Phase, type PurchaseStatus } from './status-catalog';

/**
 * The value carried on `journey.purchase-status.v1`: exactly the `data` of the
 * webhook, so delivery sends `{ type, timestamp, data }` without reshaping.
 * Nothing in it is private to Gancho; anything partners must not see stays
 * out of this type.
 */
export interface PurchaseStatusEventV1 {
  purchase_id: string;
  partner_id: string;
  status: PurchaseStatus;
  /** null on the first status of a purchase. */
  previous_status: PurchaseStatus | null;
  phase: Phase;
  /** RFC 3339, when the status changed in the journey. */
  occurred_at: string;
  /** Position of this change in the purchase's stream, from 1; orders and de-duplicates per purchase. */
  sequence: number;
  course: WebhookCourse;
  student: StatusEventStudentV1;
}

export interface WebhookCourse {
  id: string;
  name: string;
  /** Integer minor units (centavos for BRL). */
  price_cents: number;
  /** ISO 4217, upper case. */
  currency: string;
}

/** The student on `journey.purchase-status.v1`: in clear (the topic of the release before personal data was sealed). */
export interface StatusEventStudentV1 {
  name: string;
  email: string;
}

/**
 * The student in a webhook: the pseudonymous subject id, and the personal
 * fields unless the endpoint opted out of them (`include_personal_data:
 * false`) or the student was erased (`erased: true`, LGPD art. 18). `id` is
 * absent only on events of a journey older than personal-data sealing.
 */
export interface WebhookStudent {
  id?: string;
  name?: string;
  email?: string;
  erased?: true;
}

/** The `data` of a status webhook: the status event, with the student as the endpoint may see it. */
export interface PurchaseWebhookData extends Omit<PurchaseStatusEventV1, 'student'> {
  student: WebhookStudent;
}

/** The body POSTed to partner endpoints. */
export interface PurchaseWebhookPayload {
  type: EventType;
  /** RFC 3339; the time of the status event, identical on every redelivery. */
  timestamp: string;
  data: PurchaseWebhookData;
}

export const webhookSchemaVersion = 1;
export const webhookSchemaBaseUrl = 'https://schemas.gancho.dev/webhooks';

export function webhookSchemaId(type: EventType, version: number = webhookSchemaVersion): string {
  return `${webhookSchemaBaseUrl}/${type}/v${version}.json`;
}

/** The webhook body for a status event, timestamped with the event's own time unless told otherwise. */
export function toWebhookPayload(data: PurchaseWebhookData, timestamp: string = data.occurred_at): PurchaseWebhookPayload {
  return { type: eventTypeOf(data.status), timestamp, data };
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonSchema = { [key: string]: JsonValue };

const nonEmptyString = (description: string): JsonSchema => ({ type: 'string', minLength: 1, description });
const dateTime = (description: string): JsonSchema => ({ type: 'string', format: 'date-time', description });

/** The student of `journey.purchase-status.v1`: name and e-mail in clear, both required. */
export function statusEventStudentV1Schema(): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'email'],
    properties: {
      name: nonEmptyString("The student's name."),
      email: { type: 'string', format: 'email', description: "The student's e-mail address." },
    },
  };
}

/** The student of a webhook (`WebhookStudent`). */
export function webhookStudentSchema(): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    description:
      "The student: a pseudonymous id that stays the same across purchases, and the personal fields. Name and e-mail are left out for an endpoint configured with include_personal_data: false, and after the student's personal data was erased (then erased: true).",
    properties: {
      id: { type: 'string', pattern: '^sub_[0-9a-f]{32}$', description: "The student's pseudonymous id (the data subject); absent only on events of a journey older than personal-data sealing." },
      name: nonEmptyString("The student's name."),
      email: { type: 'string', format: 'email', description: "The student's e-mail address." },
      erased: { const: true, description: "The student's personal data was erased (LGPD): name and e-mail are gone for good." },
    },
  };
}

/**
 * The JSON Schema (draft 2020-12) of the webhook body of one event type. Every
 * object is closed (`additionalProperties: false`); `type`, `data.status` and
 * `data.phase` are constants of the type. A fresh object on every call.
 */
export function webhookPayloadSchema(type: EventType): JsonSchema {
  const status = statusOfEventType(type);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: webhookSchemaId(type),
    title: `${type} webhook, v${webhookSchemaVersion}`,
    description: `Sent when a purchase enters the status ${status}.`,
    type: 'object',
    additionalProperties: false,
    required: ['type', 'timestamp', 'data'],
    properties: {
      type: { const: type },
      timestamp: dateTime('When the status changed (RFC 3339); the same on every redelivery.'),
      data: {
        type: 'object',
        additionalProperties: false,
        required: ['purchase_id', 'partner_id', 'status', 'previous_status', 'phase', 'occurred_at', 'sequence', 'course', 'student'],
        properties: {
          purchase_id: nonEmptyString('The purchase.'),
          partner_id: nonEmptyString('The partner school that sells the course.'),
          status: { const: status },
          previous_status: {
            enum: [...purchaseStatuses, null],
            description: 'The status before this one; null on the first status of a purchase.',
          },
          phase: { const: phaseOf(status) },
          occurred_at: dateTime('When the status changed (RFC 3339).'),
          sequence: {
            type: 'integer',
            minimum: 1,
            description: "Position of this change in the purchase's history; orders events of one purchase.",
          },
          course: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'name', 'price_cents', 'currency'],
            properties: {
              id: nonEmptyString("The course's id at the partner."),
              name: nonEmptyString('The course name.'),
              price_cents: { type: 'integer', minimum: 0, description: 'Price in minor units of the currency.' },
              currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code.' },
            },
          },
          student: webhookStudentSchema(),
        },
      },
    },
  };
}

/** A plausible previous status for each status, for documentation examples. */
const examplePreviousStatus: Readonly<Record<PurchaseStatus, PurchaseStatus | null>> = {
  not_logged: null,
  logged: 'not_logged',
  shopping_cart_created: 'logged',
  basic_info_incomplete: 'basic_info_review',
  basic_info_review: 'shopping_cart_created',
  document_info_incomplete: 'basic_info_review',
  document_info_review: 'document_info_incomplete',
  guarantor_needed: 'analysis',
  guarantor_incomplete: 'guarantor_review',
  guarantor_review: 'guarantor_needed',
  not_approved_by_provi: 'analysis',
  approved_by_provi: 'analysis',
  analysis: 'document_info_review',
  waiting_signature: 'approved_by_provi',
  waiting_payment: 'waiting_signature',
  approved: 'waiting_payment',
  made_effective: 'approved',
  abandonment_before_signed: 'document_info_incomplete',
  link_inactive: 'shopping_cart_created',
  expired: 'link_inactive',
  denied: 'analysis',
  abandonment_after_signed: 'waiting_payment',
  abandonment_after_upfront: 'approved',
  abandonment_after_settled: 'studying',
  isa_abandonment_after_signed: 'studying',
  isa_default: 'late',
  effective: 'made_effective',
  studying: 'effective',
  pending: 'studying',
  paid: 'pending',
  awaiting_declaration: 'paid',
  late_declaration: 'awaiting_declaration',
  declaration_analysis: 'awaiting_declaration',
  declaration_review: 'declaration_analysis',
  no_income: 'declaration_analysis',
  income_below_min: 'declaration_analysis',
  late: 'pending',
  protest: 'late',
  negativated: 'protest',
  default: 'negativated',
  fully_paid: 'paid',
};

/**
 * A valid example webhook body of `type`, for documentation and tests; its
 * data is also a valid `journey.purchase-status.v1` value (the student
 * without a subject id: see `exampleWebhookPayload`).
 */
export function examplePayload(type: EventType): PurchaseWebhookPayload & { data: PurchaseStatusEventV1 } {
  const status = statusOfEventType(type);
  const previous = examplePreviousStatus[status];
  return {
    type,
    timestamp: '2026-11-27T19:28:47.123Z',
    data: {
      purchase_id: 'pur_01JDZ8Q6Y3M4T5V6W7X8Y9Z0AB',
      partner_id: 'ptn_01JDZ7K2M3N4P5Q6R7S8T9V0WX',
      status,
      previous_status: previous,
      phase: phaseOf(status),
      occurred_at: '2026-11-27T19:28:47.123Z',
      sequence: previous === null ? 1 : purchaseStatuses.indexOf(status) + 2,
      course: { id: 'crs_fullstack_2026', name: 'Full-stack Web Development', price_cents: 1234500, currency: 'BRL' },
      student: { name: 'Maria Silva', email: 'maria.silva@example.com' },
    },
  };
}

/** The example webhook body of `type` as this release sends it: the student with its subject id. */
export function exampleWebhookPayload(type: EventType): PurchaseWebhookPayload {
  const payload = examplePayload(type);
  return { ...payload, data: { ...payload.data, student: { id: exampleWebhookSubjectId, ...payload.data.student } } };
}

export const exampleWebhookSubjectId = 'sub_5d0c6b1e9a2f4e8d7c3b1a0f9e8d7c6b';

// The same e-mail rule as ajv-formats' `email` format, so what we accept the schema accepts.
const emailPattern = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;
// RFC 3339 section 5.6 (a space may stand for the T, as the RFC and ajv-formats allow).
const rfc3339Pattern = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;
const currencyPattern = /^[A-Z]{3}$/;

export function isEmailAddress(value: unknown): value is string {
  return typeof value === 'string' && emailPattern.test(value);
}

export function isRfc3339(value: unknown): value is string {
  const match = typeof value === 'string' ? rfc3339Pattern.exec(value) : null;
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  // Date.parse rolls 2026-02-30 over into March; RFC 3339 calls it invalid.
  const calendarDay = new Date(Date.UTC(year, month - 1, day));
  return calendarDay.getUTCMonth() === month - 1 && calendarDay.getUTCDate() === day && hour < 24 && minute < 60 && second <= 60;
}

export function isCurrencyCode(value: unknown): value is string {
  return typeof value === 'string' && currencyPattern.test(value);
}

type Problems = string[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function checkObject(value: unknown, path: string, keys: readonly string[], problems: Problems): value is Record<string, unknown> {
  if (!isRecord(value)) {
    problems.push(`${path}: must be an object`);
    return false;
  }
  for (const key of keys) if (!(key in value)) problems.push(`${path}.${key}: is required`);
  for (const key of Object.keys(value)) if (!keys.includes(key)) problems.push(`${path}.${key}: is not allowed`);
  return true;
}

function check(ok: boolean, problem: string, problems: Problems): void {
  if (!ok) problems.push(problem);
}

const nonEmpty = (value: unknown): boolean => typeof value === 'string' && value.length > 0;

/**
 * What is wrong with `value` as a `PurchaseStatusEventV1` (empty when it is
 * one). The same rules as the `data` part of `webhookPayloadSchema`, without a
 * JSON Schema engine, for consumers of the topic.
 */
export function purchaseStatusEventProblems(value: unknown, path = 'data'): string[] {
  return purchaseEventProblemsWith(value, path, (student, studentPath, problems) => {
    if (checkObject(student, studentPath, ['name', 'email'], problems)) {
      check(nonEmpty(student['name']), `${studentPath}.name: must be a non-empty string`, problems);
      check(isEmailAddress(student['email']), `${studentPath}.email: must be an e-mail address`, problems);
    }
  });
}

/**
 * The checks of a status event value, the student left to `studentProblems`
 * (v1 carries it in clear, v2 sealed): for the versions of the status topic.
 */
export function purchaseEventProblemsWith(value: unknown, path: string, studentProblems: (student: unknown, path: string, problems: string[]) => void): string[] {
  const problems: Problems = [];
  const keys = ['purchase_id', 'partner_id', 'status', 'previous_status', 'phase', 'occurred_at', 'sequence', 'course', 'student'];
  if (!checkObject(value, path, keys, problems)) return problems;
  check(nonEmpty(value['purchase_id']), `${path}.purchase_id: must be a non-empty string`, problems);
  check(nonEmpty(value['partner_id']), `${path}.partner_id: must be a non-empty string`, problems);
  const status = value['status'];
  check(isPurchaseStatus(status), `${path}.status: must be a purchase status`, problems);
  check(value['previous_status'] === null || isPurchaseStatus(value['previous_status']), `${path}.previous_status: must be a purchase status or null`, problems);
  if (isPurchaseStatus(status)) {
    check(value['phase'] === phaseOf(status), `${path}.phase: must be ${phaseOf(status)} for status ${status}`, problems);
  }
  check(isRfc3339(value['occurred_at']), `${path}.occurred_at: must be an RFC 3339 date-time`, problems);
  const sequence = value['sequence'];
  check(Number.isInteger(sequence) && (sequence as number) >= 1, `${path}.sequence: must be an integer ≥ 1`, problems);
  const course = value['course'];
  if (checkObject(course, `${path}.course`, ['id', 'name', 'price_cents', 'currency'], problems)) {
    check(nonEmpty(course['id']), `${path}.course.id: must be a non-empty string`, problems);
    check(nonEmpty(course['name']), `${path}.course.name: must be a non-empty string`, problems);
    const price = course['price_cents'];
    check(Number.isInteger(price) && (price as number) >= 0, `${path}.course.price_cents: must be an integer ≥ 0`, problems);
    check(isCurrencyCode(course['currency']), `${path}.course.currency: must be an ISO 4217 code`, problems);
  }
  studentProblems(value['student'], `${path}.student`, problems);
  return problems;
}

export function isPurchaseStatusEventV1(value: unknown): value is PurchaseStatusEventV1 {
  return purchaseStatusEventProblems(value).length === 0;
}

/** The rules of `webhookStudentSchema`: every field optional, none other allowed. */
function webhookStudentProblems(student: unknown, path: string, problems: Problems): void {
  if (!isRecord(student)) {
    problems.push(`${path}: must be an object`);
    return;
  }
  for (const key of Object.keys(student)) if (!['id', 'name', 'email', 'erased'].includes(key)) problems.push(`${path}.${key}: is not allowed`);
  if ('id' in student) check(isSubjectId(student['id']), `${path}.id: must be a subject id (sub_ and 32 hex digits)`, problems);
  if ('name' in student) check(nonEmpty(student['name']), `${path}.name: must be a non-empty string`, problems);
  if ('email' in student) check(isEmailAddress(student['email']), `${path}.email: must be an e-mail address`, problems);
  if ('erased' in student) check(student['erased'] === true, `${path}.erased: must be true`, problems);
}

/** What is wrong with `value` as a webhook body (empty when it is one). */
export function webhookPayloadProblems(value: unknown): string[] {
  const problems: Problems = [];
  if (!checkObject(value, 'payload', ['type', 'timestamp', 'data'], problems)) return problems;
  const type = value['type'];
  check(isEventType(type), 'payload.type: must be a purchase event type', problems);
  check(isRfc3339(value['timestamp']), 'payload.timestamp: must be an RFC 3339 date-time', problems);
  problems.push(...purchaseEventProblemsWith(value['data'], 'payload.data', webhookStudentProblems));
  const data = value['data'];
  if (isEventType(type) && isRecord(data) && data['status'] !== statusOfEventType(type)) {
    problems.push(`payload.data.status: must be ${statusOfEventType(type)} for type ${type}`);
  }
  return problems;
}
