import { endpointDisabledReasons, type EndpointDisabledReason } from './endpoint-state';
import type { JsonSchema } from './webhook-payload';

/**
 * Operational webhooks: what Gancho tells a partner about its own endpoints
 * and messages (an endpoint disabled, re-enabled or recovered, a message whose
 * retries are used up, a rotation whose previous secret stops verifying soon).
 * They are not purchase statuses: an endpoint receives them only when its
 * event-type filter names them (`endpoint.disabled`, or the prefixes
 * `endpoint.*` and `message.*`); `*` and `purchase.*` keep meaning the
 * purchase events, so no existing endpoint starts receiving them unasked.
 * An event is never delivered to the endpoint whose trouble it reports.
 */
export const operationalEventTypes = ['endpoint.disabled', 'endpoint.enabled', 'endpoint.recovered', 'endpoint.secret_rotation_ending', 'message.exhausted'] as const;
export type OperationalEventType = (typeof operationalEventTypes)[number];

/** The prefixes a filter may name them by. */
export const operationalEventPrefixes = ['endpoint.*', 'message.*'] as const;

export function isOperationalEventType(value: unknown): value is OperationalEventType {
  return typeof value === 'string' && (operationalEventTypes as readonly string[]).includes(value);
}

/** Whether a filter entry names operational events: one of their types, or `endpoint.*` / `message.*`. */
export function isOperationalFilterEntry(entry: unknown): boolean {
  return isOperationalEventType(entry) || (operationalEventPrefixes as readonly unknown[]).includes(entry);
}

/** Whether an endpoint with `filter` receives operational events of `type` (only entries that name them count, never `*`). */
export function matchesOperationalEventType(filter: readonly string[], type: OperationalEventType): boolean {
  return filter.some((entry) => entry === type || (isOperationalFilterEntry(entry) && entry.endsWith('.*') && type.startsWith(entry.slice(0, -1))));
}

/** The operational types an endpoint with `filter` receives. */
export function operationalEventTypesOf(filter: readonly string[]): OperationalEventType[] {
  return operationalEventTypes.filter((type) => matchesOperationalEventType(filter, type));
}

/** Who the event is about: the partner's endpoint in trouble (or back). */
interface AboutEndpoint {
  partner_id: string;
  endpoint_id: string;
  endpoint_url: string;
}

export interface EndpointDisabledEventData extends AboutEndpoint {
  reason: EndpointDisabledReason;
  /** For the partner: "410 Gone from https://…", "no successful delivery since …", "Disabled by the partner." */
  detail: string;
  disabled_at: string;
}

export interface EndpointEnabledEventData extends AboutEndpoint {
  enabled_at: string;
}

export interface EndpointRecoveredEventData extends AboutEndpoint {
  /** The first failure of the spell that ended. */
  failing_since: string;
  /** Failed attempts in a row before this success. */
  failed_attempts: number;
  recovered_at: string;
}

export interface EndpointSecretRotationEndingEventData extends AboutEndpoint {
  rotated_at: string;
  /** From then on only the current secret verifies. */
  previous_secret_expires_at: string;
  /** Hours from when this is sent until then (may be fractional for a short overlap). */
  hours_remaining: number;
}

export interface MessageExhaustedEventData extends AboutEndpoint {
  /** The message (its webhook-id) whose retries are used up; recover or resend it from the message log. */
  message_id: string;
  event_type: string;
  attempts: number;
  last_status_code: number | null;
  /** Why the last attempt got no answer (timeout, connect_refused, …), or null. */
  last_error: string | null;
  exhausted_at: string;
}

export interface OperationalEventDataOf {
  'endpoint.disabled': EndpointDisabledEventData;
  'endpoint.enabled': EndpointEnabledEventData;
  'endpoint.recovered': EndpointRecoveredEventData;
  'endpoint.secret_rotation_ending': EndpointSecretRotationEndingEventData;
  'message.exhausted': MessageExhaustedEventData;
}

/** The body POSTed for an operational event, shaped like every Gancho webhook. */
export interface OperationalWebhookPayload<T extends OperationalEventType = OperationalEventType> {
  type: T;
  /** RFC 3339: when it happened; the same on every redelivery. */
  timestamp: string;
  data: OperationalEventDataOf[T];
}

/** The field of `data` that says when it happened, per type (the webhook's `timestamp`). */
export const operationalEventTimeField: { readonly [T in OperationalEventType]: keyof OperationalEventDataOf[T] & string } = {
  'endpoint.disabled': 'disabled_at',
  'endpoint.enabled': 'enabled_at',
  'endpoint.recovered': 'recovered_at',
  'endpoint.secret_rotation_ending': 'rotated_at',
  'message.exhausted': 'exhausted_at',
};

export const operationalEventDescriptions: { readonly [T in OperationalEventType]: string } = {
  'endpoint.disabled': 'An endpoint of yours was disabled (by you, or by Gancho: 410 Gone, failing for too long, credentials refused); nothing more is sent to it until it is enabled.',
  'endpoint.enabled': 'An endpoint of yours was enabled again.',
  'endpoint.recovered': 'An endpoint that had failed several attempts in a row succeeded again.',
  'endpoint.secret_rotation_ending': "An endpoint's previous signing secret stops verifying soon (hours_remaining): after that only the current secret signs.",
  'message.exhausted': 'A message to an endpoint of yours used up its retries; it will not be tried again unless you resend or recover it.',
};

export const operationalSchemaVersion = 1;
const schemaBaseUrl = 'https://schemas.gancho.dev/webhooks';

export function operationalSchemaId(type: OperationalEventType): string {
  return `${schemaBaseUrl}/${type}/v${operationalSchemaVersion}.json`;
}

const nonEmptyString = (description: string): JsonSchema => ({ type: 'string', minLength: 1, description });
const dateTime = (description: string): JsonSchema => ({ type: 'string', format: 'date-time', description });
const nullable = (schema: JsonSchema, description: string): JsonSchema => ({ description, anyOf: [schema, { type: 'null' }] });

const aboutEndpoint: Record<string, JsonSchema> = {
  partner_id: nonEmptyString('Your partner id.'),
  endpoint_id: nonEmptyString('The endpoint the event is about (never the endpoint receiving it).'),
  endpoint_url: { type: 'string', description: "That endpoint's URL." },
};

const dataProperties: { readonly [T in OperationalEventType]: Record<string, JsonSchema> } = {
  'endpoint.disabled': {
    reason: { enum: [...endpointDisabledReasons], description: 'by_partner, gone (410), failing (no success for the configured period), unauthorized (credentials refused).' },
    detail: { type: 'string', description: 'Why, in words.' },
    disabled_at: dateTime('When it was disabled.'),
  },
  'endpoint.enabled': { enabled_at: dateTime('When it was enabled.') },
  'endpoint.recovered': {
    failing_since: dateTime('The first failure of the spell that ended.'),
    failed_attempts: { type: 'integer', minimum: 1, description: 'Failed attempts in a row before the success.' },
    recovered_at: dateTime('When the successful attempt finished.'),
  },
  'endpoint.secret_rotation_ending': {
    rotated_at: dateTime('When the secret was rotated.'),
    previous_secret_expires_at: dateTime('From then on only the current secret verifies.'),
    hours_remaining: { type: 'number', minimum: 0, description: 'Hours from the sending of this event until previous_secret_expires_at.' },
  },
  'message.exhausted': {
    message_id: nonEmptyString('The message (its webhook-id).'),
    event_type: nonEmptyString('Its event type.'),
    attempts: { type: 'integer', minimum: 1, description: 'Attempts made.' },
    last_status_code: nullable({ type: 'integer', minimum: 100, maximum: 599 }, 'The last answer, or null when none came.'),
    last_error: nullable({ type: 'string' }, 'Why the last attempt got no answer, or null.'),
    exhausted_at: dateTime('When the last attempt finished.'),
  },
};

/** The JSON Schema (2020-12) of the `data` of an operational event: closed, like every webhook body of Gancho's. */
export function operationalEventDataSchema(type: OperationalEventType): JsonSchema {
  const properties = { ...aboutEndpoint, ...dataProperties[type] };
  return { type: 'object', additionalProperties: false, required: Object.keys(properties), properties };
}

/** The JSON Schema (2020-12) of the webhook body of an operational event type. A fresh object on every call. */
export function operationalWebhookSchema(type: OperationalEventType): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: operationalSchemaId(type),
    title: `${type} operational webhook, v${operationalSchemaVersion}`,
    description: operationalEventDescriptions[type],
    type: 'object',
    additionalProperties: false,
    required: ['type', 'timestamp', 'data'],
    properties: {
      type: { const: type },
      timestamp: dateTime(`When it happened (RFC 3339): data.${operationalEventTimeField[type]}.`),
      data: operationalEventDataSchema(type),
    },
  };
}

/** The webhook body of an operational event: its time is the data's own. */
export function toOperationalWebhookPayload<T extends OperationalEventType>(type: T, data: OperationalEventDataOf[T]): OperationalWebhookPayload<T> {
  return { type, timestamp: String(data[operationalEventTimeField[type]]), data };
}

const exampleEndpoint: AboutEndpoint = { partner_id: 'ptn_01JDZ7K2M3N4P5Q6R7S8T9V0WX', endpoint_id: 'ep_01JDZ9A1B2C3D4E5F6G7H8J9K0', endpoint_url: 'https://hooks.escola-azul.example/gancho' };
const exampleTime = '2026-11-27T19:28:47.123Z';

const exampleData: OperationalEventDataOf = {
  'endpoint.disabled': { ...exampleEndpoint, reason: 'gone', detail: '410 Gone from https://hooks.escola-azul.example/gancho', disabled_at: exampleTime },
  'endpoint.enabled': { ...exampleEndpoint, enabled_at: exampleTime },
  'endpoint.recovered': { ...exampleEndpoint, failing_since: '2026-11-27T17:02:11.000Z', failed_attempts: 6, recovered_at: exampleTime },
  'endpoint.secret_rotation_ending': { ...exampleEndpoint, rotated_at: '2026-11-26T19:28:47.123Z', previous_secret_expires_at: '2026-11-28T19:28:47.123Z', hours_remaining: 24 },
  'message.exhausted': {
    ...exampleEndpoint,
    message_id: 'msg_2pt6vq8yzkyf3b1ww0ra9cn4de',
    event_type: 'purchase.waiting_payment',
    attempts: 10,
    last_status_code: 503,
    last_error: null,
    exhausted_at: exampleTime,
  },
};

/** A valid example webhook body of an operational type, for documentation and tests. */
export function exampleOperationalPayload<T extends OperationalEventType>(type: T): OperationalWebhookPayload<T> {
  return toOperationalWebhookPayload(type, structuredClone(exampleData[type]));
}
