import { personalDataErasedEventType, type PersonalDataErasedEventType } from './event-types';
import { webhookSchemaBaseUrl, webhookSchemaVersion, type JsonSchema } from './webhook-payload';

/** The `data` of `purchase.personal_data_erased`: which purchase of the partner, which student (by id only), when. */
export interface PersonalDataErasedData {
  purchase_id: string;
  partner_id: string;
  student: { id: string };
  /** RFC 3339: when journey erased the student's personal data. */
  erased_at: string;
}

export interface PersonalDataErasedPayload {
  type: PersonalDataErasedEventType;
  /** RFC 3339; the erasure's time, identical on every redelivery. */
  timestamp: string;
  data: PersonalDataErasedData;
}

export function personalDataErasedSchemaId(version: number = webhookSchemaVersion): string {
  return `${webhookSchemaBaseUrl}/${personalDataErasedEventType}/v${version}.json`;
}

/** The body of `purchase.personal_data_erased` with every key in the schema's order (the bytes signed). */
export function personalDataErasedBody(data: PersonalDataErasedData): string {
  const payload: PersonalDataErasedPayload = {
    type: personalDataErasedEventType,
    timestamp: data.erased_at,
    data: { purchase_id: data.purchase_id, partner_id: data.partner_id, student: { id: data.student.id }, erased_at: data.erased_at },
  };
  return JSON.stringify(payload);
}

/** The JSON Schema (draft 2020-12) of the `purchase.personal_data_erased` webhook; closed, a fresh object on every call. */
export function personalDataErasedWebhookSchema(): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: personalDataErasedSchemaId(),
    title: `${personalDataErasedEventType} webhook, v${webhookSchemaVersion}`,
    description:
      "Sent for each purchase of a student whose personal data was erased (LGPD art. 18, VI and §6): erase your copy of the student's name, e-mail and any other personal data you keep for it. Statuses of the purchase may still follow, with student { id, erased: true }.",
    type: 'object',
    additionalProperties: false,
    required: ['type', 'timestamp', 'data'],
    properties: {
      type: { const: personalDataErasedEventType },
      timestamp: { type: 'string', format: 'date-time', description: 'When the erasure happened (RFC 3339); the same on every redelivery.' },
      data: {
        type: 'object',
        additionalProperties: false,
        required: ['purchase_id', 'partner_id', 'student', 'erased_at'],
        properties: {
          purchase_id: { type: 'string', minLength: 1, description: 'The purchase whose student was erased.' },
          partner_id: { type: 'string', minLength: 1, description: 'The partner school that sells the course.' },
          student: {
            type: 'object',
            additionalProperties: false,
            required: ['id'],
            properties: { id: { type: 'string', pattern: '^sub_[0-9a-f]{32}$', description: "The student's pseudonymous id, as in the purchase's status webhooks (data.student.id)." } },
          },
          erased_at: { type: 'string', format: 'date-time', description: 'When the personal data was erased (RFC 3339).' },
        },
      },
    },
  };
}

/** A valid example body, for documentation and tests. */
export function examplePersonalDataErasedPayload(): PersonalDataErasedPayload {
  return {
    type: personalDataErasedEventType,
    timestamp: '2026-11-30T12:00:00.000Z',
    data: { purchase_id: 'pur_01JDZ8Q6Y3M4T5V6W7X8Y9Z0AB', partner_id: 'ptn_01JDZ7K2M3N4P5Q6R7S8T9V0WX', student: { id: 'sub_5d0c6b1e9a2f4e8d7c3b1a0f9e8d7c6b' }, erased_at: '2026-11-30T12:00:00.000Z' },
  };
}
