import { endpointAuthSchema } from './endpoint-auth';
import { cloudEventSources, cloudEventTypes, legacyEventHeaders } from './cloudevents-kafka';
import { activeCampaignErasures, activeCampaignFieldKeys, endpointDestinationTypes, endpointDisabledReasons, endpointOrderings } from './endpoint-state';
import { deliveryAttemptOutcomes } from './delivery-attempt';
import { endpointHealthReasons } from './endpoint-health';
import { eventTypes } from './event-types';
import { exampleOperationalPayload, operationalEventDataSchema, operationalSchemaId, type OperationalEventType } from './operational-event-types';
import { purchaseStatuses } from './status-catalog';
import { erasureIdPattern, sealedValuePattern, subjectIdPattern, subjectKeyIdPattern } from './personal-data';
import { Topics, type TopicName } from './topics';
import { examplePayload, statusEventStudentV1Schema, webhookPayloadSchema, webhookSchemaBaseUrl, webhookSchemaId, webhookSchemaVersion, type JsonSchema, type JsonValue } from './webhook-payload';

/**
 * The contract of every Kafka topic Gancho publishes, in one registry that
 * documentation (AsyncAPI), the compatibility gate, topic creation, producer
 * contract tests and consumers all read. Values are JSON Schemas (draft
 * 2020-12), closed (`additionalProperties: false`): a producer of v1 writes
 * exactly these fields, and a consumer that meets a field, enum value or
 * CloudEvents type it does not know is reading a newer version than its own,
 * so it must not act on a partial reading (see `mustUnderstand`). A change an
 * older consumer cannot read ships as a new topic version (`….v2`).
 */
export interface TopicContract {
  topic: TopicName;
  /** The major version, the `vN` of the topic's name; also the version in the value schema's `$id`. */
  version: number;
  summary: string;
  key: {
    description: string;
    /** The value field the key equals (also `ce_subject`). */
    valueField: string;
    schema: JsonSchema;
  };
  /** JSON Schema (draft 2020-12) of the value (UTF-8 JSON). */
  valueSchema: JsonSchema;
  /** Compacted topics: an empty value deletes the key. */
  tombstones: { allowed: boolean; description?: string };
  /** JSON Schema of the record headers (name to UTF-8 string): CloudEvents 1.0 Kafka binding, binary content mode, plus W3C trace context. */
  headers: JsonSchema;
  /** The CloudEvents attributes every record carries. */
  cloudEvents: { type: string; typePattern: string; source: string; dataSchema: string };
  partitioning: { key: string; reason: string; partitions: string };
  ordering: string;
  retention: {
    /** `retention.ms` set at topic creation; null for compacted topics, which keep the latest record of every key. */
    retentionMs: number | null;
    /** For compacted topics, how long a tombstone stays readable (`delete.retention.ms`): a reader that catches up within it sees every delete. */
    deleteRetentionMs: number | null;
    /** The environment variable that overrides `retention.ms` (or `delete.retention.ms`) where the topic is created. */
    env: string;
  };
  compaction: {
    cleanupPolicy: 'delete' | 'compact';
    reason: string;
    /** Compacted topics whose replaced values must leave the broker soon (sealed keys after their tombstone): `segment.ms` and `max.compaction.lag.ms`. */
    segmentMs?: number;
    maxCompactionLagMs?: number;
  };
  producer: { service: string; description: string };
  consumers: readonly { service: string; group: string; description: string }[];
  /** What a consumer must check before acting on a record, and what it does when it cannot. */
  mustUnderstand: readonly string[];
  /** Personal data in the value, for analytics (none when empty). */
  personalData: readonly string[];
  examples: readonly TopicRecordExample[];
}

export interface TopicRecordExample {
  name: string;
  key: string;
  headers: Record<string, string>;
  /** null for a tombstone. */
  value: JsonValue | null;
}

export const topicSchemaBaseUrl = 'https://schemas.gancho.dev/topics';

export function topicValueSchemaId(topic: TopicName): string {
  const match = /^(.*)\.v(\d+)$/.exec(topic);
  if (!match) throw new TypeError(`topic ${topic} has no version`);
  return `${topicSchemaBaseUrl}/${match[1]}/v${match[2]}.json`;
}

const schemaDialect = 'https://json-schema.org/draft/2020-12/schema';
const day = 24 * 60 * 60 * 1000;

const nonEmptyString = (description: string): JsonSchema => ({ type: 'string', minLength: 1, description });
const dateTime = (description: string): JsonSchema => ({ type: 'string', format: 'date-time', description });
const nullable = (schema: JsonSchema, description: string): JsonSchema => ({ description, anyOf: [schema, { type: 'null' }] });

/** CloudEvents binary mode headers; `type` is a constant or a pattern. */
function cloudEventHeaders(input: { type: JsonSchema; source: string; subject: string; id: string; legacy?: boolean; tombstones?: boolean }): JsonSchema {
  return {
    $schema: schemaDialect,
    type: 'object',
    description:
      'Kafka record headers, UTF-8 strings: the CloudEvents 1.0 attributes in binary content mode (ce_*), the content type (on every record with a value), and W3C trace context. Other headers may be present and are to be ignored.',
    // A tombstone has no value, hence no content type; every other record carries one.
    required: ['ce_specversion', 'ce_id', 'ce_type', 'ce_source', 'ce_time', 'ce_subject', ...(input.tombstones ? [] : ['content-type'])],
    properties: {
      ce_specversion: { const: '1.0', description: 'CloudEvents specification version.' },
      ce_id: { ...nonEmptyString(input.id) },
      ce_type: input.type,
      ce_source: { const: input.source, description: 'The producing service.' },
      ce_time: dateTime('When the fact happened (RFC 3339).'),
      ce_subject: nonEmptyString(input.subject),
      'content-type': { type: 'string', pattern: '^application/json(;.*)?$', description: 'The value is UTF-8 JSON (CloudEvents datacontenttype).' },
      traceparent: {
        type: 'string',
        pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
        description: 'W3C trace context of the producing request, when there was one.',
      },
      tracestate: { type: 'string', description: 'W3C trace state, with traceparent.' },
      ...(input.legacy
        ? {
            [legacyEventHeaders.id]: { type: 'string', description: 'Release v0.1.0 compatibility, for one release: the same as ce_id.' },
            [legacyEventHeaders.type]: { type: 'string', description: "Release v0.1.0 compatibility, for one release: the event store's type (EndpointCreated, ApiKeyIssued, …)." },
          }
        : {}),
    },
    additionalProperties: { type: 'string' },
  };
}

/** The value of `journey.purchase-status.v1`: one of the 41 webhook `data` schemas, reused from the webhook payload schemas. */
function purchaseStatusValueSchema(): JsonSchema {
  return {
    $schema: schemaDialect,
    $id: topicValueSchemaId(Topics.purchaseStatus),
    title: 'Purchase status event, v1',
    description: `Exactly the \`data\` of the webhook that delivery sends for it: the webhook of type ce_type is \`{ type: ce_type, timestamp: occurred_at, data: <this value> }\`, each branch is the \`data\` of the webhook schema \`${webhookSchemaBaseUrl}/<type>/v${webhookSchemaVersion}.json\`. Which branch applies is given by \`status\` (and ce_type).`,
    oneOf: eventTypes.map((type) => {
      const data = (webhookPayloadSchema(type)['properties'] as Record<string, JsonSchema>)['data'] as JsonSchema;
      // The student of v1 is in clear, name and e-mail required (the webhook's may leave them out).
      const properties = { ...(data['properties'] as Record<string, JsonSchema>), student: statusEventStudentV1Schema() };
      return { title: type, description: `The data of the ${type} webhook (${webhookSchemaId(type)}#/properties/data).`, ...data, properties };
    }),
  };
}

function signingSecretSchema(): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['sealed', 'valid_from', 'valid_until'],
    properties: {
      sealed: nonEmptyString('The signing secret sealed by @gancho/secret-box with the context `endpoint:<endpoint_id>`.'),
      valid_from: dateTime('Sign with it from then on.'),
      valid_until: nullable(dateTime('Stop signing with it then.'), 'null for the current secret.'),
    },
  };
}

function destinationSchema(): JsonSchema {
  return {
    description: `Where the endpoint's events go. A consumer that does not know \`type\` (one of ${endpointDestinationTypes.join(', ')} in v1) must send nothing to the endpoint.`,
    oneOf: [
      { type: 'object', additionalProperties: false, required: ['type'], properties: { type: { const: 'webhook' } } },
      {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'api_url', 'api_token_sealed', 'mapping'],
        properties: {
          type: { const: 'activecampaign' },
          api_url: { type: 'string', format: 'uri', description: "The account's API base URL (also the endpoint's url)." },
          api_token_sealed: nonEmptyString('The API token, sealed with the context `endpoint-destination:<endpoint_id>`.'),
          mapping: {
            type: 'object',
            additionalProperties: false,
            required: ['tag_prefix', 'status_tags', 'recovery_tag', 'recovery_statuses', 'fields'],
            properties: {
              tag_prefix: { type: 'string' },
              status_tags: { type: 'boolean' },
              recovery_tag: nullable({ type: 'string' }, 'null: no recovery tag.'),
              recovery_statuses: { type: 'array', items: { enum: [...purchaseStatuses] } },
              fields: {
                type: 'object',
                additionalProperties: false,
                required: [...activeCampaignFieldKeys],
                properties: Object.fromEntries(activeCampaignFieldKeys.map((key) => [key, nullable({ type: 'string' }, `Personalization tag for ${key}, or null.`)])),
              },
            },
          },
          event_tracking: nullable(
            {
              type: 'object',
              additionalProperties: false,
              required: ['actid', 'event_key_sealed'],
              properties: {
                actid: nonEmptyString('The account tracking id.'),
                event_key_sealed: nonEmptyString('The event key, sealed with the context `endpoint-destination:<endpoint_id>:event-key`.'),
              },
            },
            'Off when absent or null.',
          ),
          on_erasure: { enum: [...activeCampaignErasures], description: "On a student's erasure: delete the contact Gancho synced, or keep it. Absent: keep." },
        },
      },
    ],
  };
}

function endpointStateValueSchema(): JsonSchema {
  const headerValues: JsonSchema = { type: 'object', additionalProperties: { type: 'string' } };
  return {
    $schema: schemaDialect,
    $id: topicValueSchemaId(Topics.endpoints),
    title: 'Endpoint state, v1',
    description: 'The full state of an endpoint after a change (EndpointStateV1); the consumer keeps the highest `version` per endpoint.',
    type: 'object',
    additionalProperties: false,
    required: [
      'endpoint_id',
      'partner_id',
      'url',
      'description',
      'event_types',
      'enabled',
      'disabled_reason',
      'disabled_detail',
      'headers',
      'rate_limit_per_second',
      'ordering',
      'signing_secrets',
      'version',
      'created_at',
      'updated_at',
    ],
    properties: {
      endpoint_id: nonEmptyString('The endpoint (also the key).'),
      partner_id: nonEmptyString('The partner that owns it.'),
      url: { type: 'string', format: 'uri', description: 'Where webhooks are POSTed (the ActiveCampaign API URL for that destination).' },
      description: { type: 'string' },
      event_types: { type: 'array', items: { type: 'string' }, description: 'Event-type filter: exact types, `prefix.*`, or `*`.' },
      enabled: { type: 'boolean' },
      disabled_reason: nullable({ enum: [...endpointDisabledReasons] }, 'Set while disabled.'),
      disabled_detail: nullable({ type: 'string' }, 'Why, for the partner; null while enabled.'),
      headers: { ...headerValues, description: 'Always {} since header values are sealed; plain values only in states published before that.' },
      sealed_headers: { ...headerValues, description: 'Extra request headers, each value sealed with the context `endpoint-header:<endpoint_id>:<lower-case name>`.' },
      rate_limit_per_second: nullable({ type: 'integer', minimum: 1 }, 'null for no limit of its own.'),
      ordering: { enum: [...endpointOrderings] },
      include_personal_data: { type: 'boolean', description: "false: webhooks carry the student's id only, never name or e-mail. Absent: true." },
      destination: destinationSchema(),
      payload_filter: {
        type: 'object',
        minProperties: 1,
        description:
          "Payload filter over the webhook's data (docs/filters.md: field paths with $eq $ne $in $nin $gt $gte $lt $lte $exists, combined with $and $or $not); only matching events are delivered. Absent: every event of event_types. A consumer that cannot evaluate it sends nothing to the endpoint.",
      },
      auth: endpointAuthSchema(),
      signing_secrets: { type: 'array', items: signingSecretSchema() },
      version: { type: 'integer', minimum: 1, description: "Version of the endpoint's stream." },
      created_at: dateTime('RFC 3339.'),
      updated_at: dateTime('RFC 3339.'),
    },
  };
}

function apiKeyValueSchema(): JsonSchema {
  return {
    $schema: schemaDialect,
    $id: topicValueSchemaId(Topics.apiKeys),
    title: 'API key record, v1',
    description: 'An API key of a partner (ApiKeyRecordV1): only its SHA-256, never the key. Revocation is a new record with revoked: true.',
    type: 'object',
    additionalProperties: false,
    required: ['key_id', 'partner_id', 'key_hash', 'display_prefix', 'revoked', 'created_at', 'revoked_at'],
    properties: {
      key_id: nonEmptyString('The key (also the record key).'),
      partner_id: nonEmptyString('The partner it authenticates.'),
      key_hash: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'Lower-case hex SHA-256 of the whole key.' },
      display_prefix: nonEmptyString('`gk_live_` and the first 6 characters of the random part.'),
      revoked: { type: 'boolean' },
      created_at: dateTime('RFC 3339.'),
      revoked_at: nullable(dateTime('RFC 3339.'), 'null while valid.'),
      expires_at: nullable(dateTime('RFC 3339; portal sessions expire within an hour.'), 'Absent or null: never expires.'),
    },
  };
}

function endpointHealthValueSchema(): JsonSchema {
  return {
    $schema: schemaDialect,
    $id: topicValueSchemaId(Topics.endpointHealth),
    title: 'Endpoint health report, v1',
    description: 'Delivery asks subscriptions to disable an endpoint (EndpointHealthReportV1).',
    type: 'object',
    additionalProperties: false,
    required: ['endpoint_id', 'partner_id', 'reason', 'detail', 'occurred_at'],
    properties: {
      endpoint_id: nonEmptyString('The endpoint (also the key).'),
      partner_id: nonEmptyString('Its partner.'),
      reason: { enum: [...endpointHealthReasons] },
      detail: { type: 'string', description: 'For the partner, e.g. "410 Gone from https://…".' },
      occurred_at: dateTime('When delivery decided.'),
    },
  };
}

function deliveryAttemptValueSchema(): JsonSchema {
  return {
    $schema: schemaDialect,
    $id: topicValueSchemaId(Topics.deliveryAttempts),
    title: 'Delivery attempt, v1',
    description: 'One attempt to deliver a message to an endpoint (DeliveryAttemptV1). No body, no response text, no personal data.',
    type: 'object',
    additionalProperties: false,
    required: ['message_id', 'endpoint_id', 'partner_id', 'event_type', 'attempt_number', 'started_at', 'latency_ms', 'status_code', 'error_class', 'outcome', 'next_attempt_at'],
    properties: {
      message_id: nonEmptyString('The message (also the key); the webhook-id partners see.'),
      endpoint_id: nonEmptyString('The endpoint.'),
      partner_id: { type: 'string', description: 'Its partner (empty only for attempts logged by the v0.1.0 release).' },
      event_type: { type: 'string', description: 'The webhook event type, e.g. purchase.waiting_payment.' },
      attempt_number: { type: 'integer', minimum: 1 },
      started_at: dateTime('RFC 3339.'),
      latency_ms: { type: 'integer', minimum: 0 },
      status_code: nullable({ type: 'integer', minimum: 100, maximum: 599 }, 'null when no response came.'),
      error_class: nullable({ type: 'string' }, 'Why no response came (timeout, connect_refused, dns, tls, reset, ssrf_blocked, …), or null.'),
      outcome: { enum: [...deliveryAttemptOutcomes] },
      next_attempt_at: nullable(dateTime('RFC 3339.'), 'Set when outcome is scheduled.'),
    },
  };
}

const exampleTime = '2026-11-27T19:28:47.123Z';
const exampleTrace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function purchaseStatusContract(): TopicContract {
  const payload = examplePayload('purchase.waiting_payment');
  const data = payload.data as unknown as JsonValue;
  return {
    topic: Topics.purchaseStatus,
    version: 1,
    summary: 'Every status change of every purchase, from the journey service; the data of the webhook delivery sends for it.',
    key: { description: 'The purchase id, so one purchase keeps its order.', valueField: 'purchase_id', schema: { type: 'string', minLength: 1 } },
    valueSchema: purchaseStatusValueSchema(),
    tombstones: { allowed: false },
    headers: cloudEventHeaders({
      type: { type: 'string', enum: [...eventTypes], description: 'The webhook event type, `purchase.<status>`; matches data.status.' },
      source: cloudEventSources.journey,
      subject: 'The purchase id (the key).',
      id: "The event's id in the journey event store; unique per event. Delivery uses it for the webhook-id, consumers de-duplicate on it.",
    }),
    cloudEvents: { type: 'purchase.<status>', typePattern: '^purchase\\.[a-z0-9_]+$', source: cloudEventSources.journey, dataSchema: topicValueSchemaId(Topics.purchaseStatus) },
    partitioning: {
      key: 'purchase_id',
      reason: "A purchase's status events must be read in order (sequence); keying by purchase keeps them on one partition, while purchases spread across partitions.",
      partitions: 'PURCHASE_STATUS_PARTITIONS of journey (6 by default); delivery, a consumer, never changes it.',
    },
    ordering: 'Per purchase: records of one purchase are in `sequence` order. No order across purchases. At-least-once: a record may appear twice (same ce_id); de-duplicate on ce_id or (purchase_id, sequence).',
    retention: { retentionMs: 7 * day, deleteRetentionMs: null, env: 'TOPIC_RETENTION_MS_JOURNEY_PURCHASE_STATUS_V1' },
    compaction: { cleanupPolicy: 'delete', reason: 'A log of facts: every record counts, none replaces another.' },
    producer: {
      service: 'journey',
      description:
        "The journey outbox relay publishes each PurchaseStatusChanged event of the event store, once committed, only when journey runs with PUBLISH_STATUS_V1=true: it carries the student's name and e-mail in clear, for a delivery older than the LGPD release during an upgrade (upgrade delivery first, then turn it off). journey.purchase-status.v2 replaces it.",
    },
    consumers: [
      { service: 'delivery', group: 'gancho-delivery.status-events (STATUS_CONSUMER_GROUP)', description: 'Fans each event out to the matching endpoints as messages.' },
      { service: 'delivery', group: 'gancho-delivery.stream.<host>.<pid>.<random> (one per process)', description: 'The live event stream (SSE) of the partner API.' },
    ],
    mustUnderstand: [
      'ce_specversion is 1.0 and ce_type a known event type; the value validates against this schema (no unknown field: the value goes verbatim into webhooks whose schema is closed).',
      'Otherwise the record is not acted on (nothing is sent for it) and the consumer logs it without personal data and counts it (gancho_messaging_records_not_understood_total). Delivery keeps it as it came (held_status_events) and delivers it when a release that reads it starts; the live stream skips it.',
    ],
    personalData: ['student.name', 'student.email'],
    examples: [
      {
        name: 'waiting_payment',
        key: payload.data.purchase_id,
        headers: {
          ce_specversion: '1.0',
          ce_id: '0193a8c2-5e1f-7c3a-9b2d-4e5f6a7b8c9d',
          ce_type: payload.type,
          ce_source: '/gancho/journey',
          ce_time: payload.data.occurred_at,
          ce_subject: payload.data.purchase_id,
          'content-type': 'application/json',
          traceparent: exampleTrace,
        },
        value: data,
      },
    ],
  };
}

const subjectIdSchema = (description: string): JsonSchema => ({ type: 'string', pattern: subjectIdPattern.source, description });
const sealedSchema = (description: string): JsonSchema => ({ type: 'string', pattern: sealedValuePattern.source, description });

/** The value of `journey.purchase-status.v2`: the v1 branches with `student` as `{ subject_id, sealed }`. */
function purchaseStatusV2ValueSchema(): JsonSchema {
  const student: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['subject_id', 'sealed'],
    properties: {
      subject_id: subjectIdSchema('The student as a pseudonymous data subject: stable across purchases, says nothing about the student. Analytics counts students by it.'),
      sealed: nullable(
        sealedSchema('`{"name":…,"email":…}` sealed by @gancho/secret-box under the subject key (key id as in `journey.subject-keys.v1`) with the context `subject:<subject_id>`.'),
        'null when the subject was erased before the event was published.',
      ),
    },
  };
  const v1 = purchaseStatusValueSchema();
  return {
    $schema: schemaDialect,
    $id: topicValueSchemaId(Topics.purchaseStatusV2),
    title: 'Purchase status event, v2',
    description:
      "The v1 value (the webhook's `data`) with the student's personal fields sealed under the subject's key: `student` is `{ subject_id, sealed }`. Delivery opens `sealed` with the key from `journey.subject-keys.v1`; once the subject is erased (tombstone there) it opens nowhere.",
    oneOf: (v1['oneOf'] as JsonSchema[]).map((branch) => ({
      ...branch,
      properties: { ...(branch['properties'] as Record<string, JsonSchema>), student },
    })),
  };
}

function subjectKeyValueSchema(): JsonSchema {
  return {
    $schema: schemaDialect,
    $id: topicValueSchemaId(Topics.subjectKeys),
    title: 'Subject key, v1',
    description: "A data subject's key (SubjectKeyRecordV1), sealed for transport. A tombstone (empty value) is the subject's erasure.",
    type: 'object',
    additionalProperties: false,
    required: ['subject_id', 'key_id', 'sealed_key'],
    properties: {
      subject_id: subjectIdSchema('The data subject (also the key).'),
      key_id: { type: 'string', pattern: subjectKeyIdPattern.source, description: "The SecretBox key id the subject's sealed values name (`v1.<key_id>.…`)." },
      sealed_key: sealedSchema('The 32-byte key (base64) sealed by @gancho/secret-box under SECRETS_ENCRYPTION_KEY with the context `subject-key:<subject_id>`.'),
    },
  };
}

function personalDataErasureValueSchema(): JsonSchema {
  return {
    $schema: schemaDialect,
    $id: topicValueSchemaId(Topics.personalDataErasures),
    title: 'Personal-data erasure, v1',
    description: "A data subject was erased (PersonalDataErasureV1): purge every copy of the subject's personal data and tell the partners of its purchases. No personal data.",
    type: 'object',
    additionalProperties: false,
    required: ['erasure_id', 'subject_id', 'purchases', 'erased_at'],
    properties: {
      erasure_id: { type: 'string', pattern: erasureIdPattern.source, description: "The erasure in journey's audit; the same on a repeated publication." },
      subject_id: subjectIdSchema('The data subject (also the key).'),
      purchases: {
        type: 'array',
        description: 'Every purchase of the subject, with its partner.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['purchase_id', 'partner_id'],
          properties: { purchase_id: nonEmptyString('The purchase.'), partner_id: nonEmptyString('Its partner.') },
        },
      },
      erased_at: dateTime('When journey destroyed the key (RFC 3339).'),
    },
  };
}

const exampleSubjectId = 'sub_5d0c6b1e9a2f4e8d7c3b1a0f9e8d7c6b';

function purchaseStatusV2Contract(): TopicContract {
  const v1 = purchaseStatusContract();
  const payload = examplePayload('purchase.waiting_payment');
  const value = {
    ...(payload.data as unknown as Record<string, JsonValue>),
    student: { subject_id: exampleSubjectId, sealed: 'v1.sk_3f9a1c7e5b2d4086.6mZ2cXk0bR1vT8wQ4yH7nJ5eL3aP9sD2fG6hK1jM0uN4iB8oC' },
  };
  return {
    ...v1,
    topic: Topics.purchaseStatusV2,
    version: 2,
    summary: "Every status change of every purchase, from the journey service; v1's value with the student's personal fields sealed under the subject key.",
    valueSchema: purchaseStatusV2ValueSchema(),
    cloudEvents: { ...v1.cloudEvents, dataSchema: topicValueSchemaId(Topics.purchaseStatusV2) },
    retention: { retentionMs: 7 * day, deleteRetentionMs: null, env: 'TOPIC_RETENTION_MS_JOURNEY_PURCHASE_STATUS_V2' },
    producer: {
      service: 'journey',
      description:
        'The journey outbox relay publishes each PurchaseStatusChanged event of the event store, once committed, with the student sealed as stored (events stored before the LGPD release are sealed once by the migration step).',
    },
    consumers: [
      ...v1.consumers,
      { service: 'analytics', group: 'analytics.<team>.<purpose>', description: 'Funnel analytics by the pseudonymous student.subject_id; replay from an offset or a time. Analytics never opens student.sealed.' },
    ],
    mustUnderstand: [
      ...v1.mustUnderstand,
      "student.sealed opens with the subject's key from journey.subject-keys.v1; until the key has arrived delivery holds the event (it never sends a webhook without the data it should carry); after the key's tombstone (erasure) the student is shown as erased.",
    ],
    personalData: ['student.sealed'],
    examples: [{ ...(v1.examples[0] as TopicRecordExample), name: 'waiting_payment', value }],
  };
}

function subjectKeysContract(): TopicContract {
  const headers = (id: string, tombstone: boolean): Record<string, string> => ({
    ce_specversion: '1.0',
    ce_id: id,
    ce_type: cloudEventTypes.subjectKey,
    ce_source: cloudEventSources.journey,
    ce_time: exampleTime,
    ce_subject: exampleSubjectId,
    ...(tombstone ? {} : { 'content-type': 'application/json' }),
  });
  return {
    topic: Topics.subjectKeys,
    version: 1,
    summary: "Every data subject's key, sealed for transport, so delivery can open the student's sealed fields; the tombstone of a subject is its erasure.",
    key: { description: 'The subject id.', valueField: 'subject_id', schema: { type: 'string', pattern: subjectIdPattern.source } },
    valueSchema: subjectKeyValueSchema(),
    tombstones: { allowed: true, description: 'An empty value: the subject was erased; forget the key, and everything sealed under it stops opening.' },
    headers: cloudEventHeaders({
      type: { const: cloudEventTypes.subjectKey },
      source: cloudEventSources.journey,
      tombstones: true,
      subject: 'The subject id (the key).',
      id: '`<subject_id>:key` for the key, `<subject_id>:erased` for the tombstone.',
    }),
    cloudEvents: { type: cloudEventTypes.subjectKey, typePattern: '^journey\\.subject_key$', source: cloudEventSources.journey, dataSchema: topicValueSchemaId(Topics.subjectKeys) },
    partitioning: { key: 'subject_id', reason: "Compaction keeps a subject's latest record: its key, or the tombstone that erases it.", partitions: 'The broker default.' },
    ordering: 'Per subject: the key before its tombstone. The latest record wins; a key record after a tombstone never happens (journey never reissues a key to an erased subject).',
    retention: { retentionMs: null, deleteRetentionMs: 7 * day, env: 'TOPIC_DELETE_RETENTION_MS_JOURNEY_SUBJECT_KEYS_V1' },
    compaction: {
      cleanupPolicy: 'compact',
      reason:
        "Every delivery process rebuilds its key table by reading the whole topic from the beginning, so every live subject's key must stay. After a tombstone the sealed key must leave the broker soon: segments roll every hour (segment.ms) and are compacted within an hour (max.compaction.lag.ms); the tombstone itself stays delete.retention.ms so a reader that catches up sees the erasure.",
      segmentMs: 60 * 60 * 1000,
      maxCompactionLagMs: 60 * 60 * 1000,
    },
    producer: {
      service: 'journey',
      description:
        "Journey's outbox relay publishes a subject's key when the subject is registered (read from journey.data_subjects at publication, never from the event store), and a tombstone on erasure; a key erased before its publication is never published.",
    },
    consumers: [
      {
        service: 'delivery',
        group: 'gancho-delivery.subject-keys (SUBJECT_KEYS_CONSUMER_GROUP; the replicas share it, from the beginning)',
        description:
          "Keeps each key re-sealed under delivery's SECRETS_ENCRYPTION_KEY in its subject_keys table (which every replica reads) to open the sealed student of status events; a tombstone deletes the key there and releases the events held for it, shown erased.",
      },
    ],
    mustUnderstand: [
      'The value validates against this schema and sealed_key opens under the transport key; a record it cannot read gives no key (events of that subject wait), logged and counted.',
      'A tombstone removes the key at once: nothing sealed under it is opened again, even for a resend.',
    ],
    personalData: [],
    examples: [
      {
        name: 'subject key',
        key: exampleSubjectId,
        headers: headers(`${exampleSubjectId}:key`, false),
        value: { subject_id: exampleSubjectId, key_id: 'sk_3f9a1c7e5b2d4086', sealed_key: 'v1.k1.q8Xz3vN6bW1mR5tY9pL2kH7jG4fD0sA8eC6uI3oP1nM5bV9xZ2' },
      },
      { name: 'erased subject', key: exampleSubjectId, headers: headers(`${exampleSubjectId}:erased`, true), value: null },
    ],
  };
}

function personalDataErasuresContract(): TopicContract {
  return {
    topic: Topics.personalDataErasures,
    version: 1,
    summary: "Every erasure of a data subject's personal data, so consumers purge their copies and partners are told (purchase.personal_data_erased).",
    key: { description: 'The subject id.', valueField: 'subject_id', schema: { type: 'string', pattern: subjectIdPattern.source } },
    valueSchema: personalDataErasureValueSchema(),
    tombstones: { allowed: false },
    headers: cloudEventHeaders({
      type: { const: cloudEventTypes.personalDataErasure },
      source: cloudEventSources.journey,
      subject: 'The subject id (the key).',
      id: 'The erasure id: the same when an erasure is published twice.',
    }),
    cloudEvents: {
      type: cloudEventTypes.personalDataErasure,
      typePattern: '^journey\\.personal_data_erasure$',
      source: cloudEventSources.journey,
      dataSchema: topicValueSchemaId(Topics.personalDataErasures),
    },
    partitioning: { key: 'subject_id', reason: "One subject's erasures stay in order.", partitions: 'The broker default.' },
    ordering: 'Per subject. At-least-once: de-duplicate on ce_id (the erasure id); a repeated erasure of a subject names the same erasure.',
    retention: { retentionMs: 30 * day, deleteRetentionMs: null, env: 'TOPIC_RETENTION_MS_JOURNEY_PERSONAL_DATA_ERASURES_V1' },
    compaction: { cleanupPolicy: 'delete', reason: 'Facts applied once by a committed consumer group; thirty days cover any outage of delivery.' },
    producer: { service: 'journey', description: "Journey's outbox relay publishes the erasure committed with the key's destruction." },
    consumers: [
      {
        service: 'delivery',
        group: 'gancho-delivery.personal-data-erasures (ERASURE_CONSUMER_GROUP)',
        description: 'Purges stored webhook bodies and snippets of the subject, sends purchase.personal_data_erased, deletes ActiveCampaign contacts where configured.',
      },
    ],
    mustUnderstand: ['The value validates against this schema. A record it cannot read is logged and counted, and kept for a release that reads it; never a partial purge reported as done.'],
    personalData: [],
    examples: [
      {
        name: 'erased',
        key: exampleSubjectId,
        headers: {
          ce_specversion: '1.0',
          ce_id: 'era_0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f',
          ce_type: cloudEventTypes.personalDataErasure,
          ce_source: cloudEventSources.journey,
          ce_time: exampleTime,
          ce_subject: exampleSubjectId,
          'content-type': 'application/json',
        },
        value: {
          erasure_id: 'era_0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f',
          subject_id: exampleSubjectId,
          purchases: [{ purchase_id: 'pur_01JDZ8Q6Y3M4T5V6W7X8Y9Z0AB', partner_id: 'ptn_01JDZ7K2M3N4P5Q6R7S8T9V0WX' }],
          erased_at: exampleTime,
        },
      },
    ],
  };
}

function endpointsContract(): TopicContract {
  const endpointId = 'ep_01JDZ9A1B2C3D4E5F6G7H8J9K0';
  const partnerId = 'ptn_01JDZ7K2M3N4P5Q6R7S8T9V0WX';
  const headers = (type: string, id: string): Record<string, string> => ({
    ce_specversion: '1.0',
    ce_id: id,
    ce_type: type,
    ce_source: '/gancho/subscriptions',
    ce_time: exampleTime,
    ce_subject: endpointId,
    'content-type': 'application/json',
  });
  return {
    topic: Topics.endpoints,
    version: 1,
    summary: "The latest state of every webhook endpoint (and every other destination), from subscriptions; delivery's routing table.",
    key: { description: 'The endpoint id.', valueField: 'endpoint_id', schema: { type: 'string', minLength: 1 } },
    valueSchema: endpointStateValueSchema(),
    tombstones: { allowed: true, description: 'An empty value: the endpoint was deleted.' },
    headers: cloudEventHeaders({
      type: { const: cloudEventTypes.endpointState },
      source: cloudEventSources.subscriptions,
      legacy: true,
      tombstones: true,
      subject: 'The endpoint id (the key).',
      id: 'The id of the endpoint event that led to this state.',
    }),
    cloudEvents: { type: cloudEventTypes.endpointState, typePattern: '^subscriptions\\.endpoint_state$', source: cloudEventSources.subscriptions, dataSchema: topicValueSchemaId(Topics.endpoints) },
    partitioning: { key: 'endpoint_id', reason: 'Compaction keeps the latest record per key; keying by endpoint keeps its states in order.', partitions: 'The broker default.' },
    ordering: 'Per endpoint: states in version order; a consumer ignores a state with a lower `version` than one it has (a replay, or a relay republishing).',
    retention: { retentionMs: null, deleteRetentionMs: 7 * day, env: 'TOPIC_DELETE_RETENTION_MS_SUBSCRIPTIONS_ENDPOINTS_V1' },
    compaction: {
      cleanupPolicy: 'compact',
      reason: 'Every delivery process rebuilds its routing table by reading the whole topic from the beginning (a consumer group of its own), so the latest state of every endpoint must stay forever.',
    },
    producer: { service: 'subscriptions', description: 'The endpoints outbox relay publishes the full state after every endpoint event; a delete publishes a tombstone.' },
    consumers: [{ service: 'delivery', group: 'gancho-delivery.endpoints.<host>.<pid>.<random> (one per process, from the beginning)', description: 'The routing table.' }],
    mustUnderstand: [
      'The value validates against this schema, and destination.type is known. A state it cannot read holds the endpoint back: it receives nothing (never a fallback to a webhook, nor its older state), its pending messages wait; delivery logs it, gancho_endpoints{state="held_back"} counts it and the endpoint stats show held_back.',
      'The record stays on the compacted topic, so an upgraded consumer, which reads the topic from the beginning, acts on it.',
      'payload_filter, when present, is evaluated on every event before it is routed to the endpoint; a filter with an operator or shape this release does not know holds the endpoint back like an unreadable state.',
    ],
    personalData: [],
    examples: [
      {
        name: 'webhook endpoint',
        key: endpointId,
        headers: headers('subscriptions.endpoint_state', '0193a8c2-0000-7000-8000-000000000001'),
        value: {
          endpoint_id: endpointId,
          partner_id: partnerId,
          url: 'https://hooks.escola-azul.example/gancho',
          description: 'Enrollment automation',
          event_types: ['purchase.made_effective', 'purchase.waiting_payment'],
          enabled: true,
          disabled_reason: null,
          disabled_detail: null,
          headers: {},
          sealed_headers: { 'X-School': 'v1.k1.c2VhbGVk' },
          rate_limit_per_second: null,
          ordering: 'none',
          include_personal_data: true,
          destination: { type: 'webhook' },
          signing_secrets: [{ sealed: 'v1.k1.c2VhbGVkLXNlY3JldA', valid_from: exampleTime, valid_until: null }],
          version: 3,
          created_at: '2026-11-20T10:00:00.000Z',
          updated_at: exampleTime,
        },
      },
      { name: 'deleted endpoint', key: endpointId, headers: headers('subscriptions.endpoint_state', '0193a8c2-0000-7000-8000-000000000002'), value: null },
    ],
  };
}

function apiKeysContract(): TopicContract {
  return {
    topic: Topics.apiKeys,
    version: 1,
    summary: 'Every partner API key by its hash, and its revocation; the partner authentication of subscriptions and delivery reads it.',
    key: { description: 'The API key id.', valueField: 'key_id', schema: { type: 'string', minLength: 1 } },
    valueSchema: apiKeyValueSchema(),
    tombstones: { allowed: true, description: 'An empty value: forget the key.' },
    headers: cloudEventHeaders({
      type: { const: cloudEventTypes.apiKey },
      source: cloudEventSources.subscriptions,
      legacy: true,
      tombstones: true,
      subject: 'The key id (the record key).',
      id: 'The id of the partner event (ApiKeyIssued, ApiKeyRevoked, PortalSessionIssued) behind the record.',
    }),
    cloudEvents: { type: cloudEventTypes.apiKey, typePattern: '^subscriptions\\.api_key$', source: cloudEventSources.subscriptions, dataSchema: topicValueSchemaId(Topics.apiKeys) },
    partitioning: { key: 'key_id', reason: "Compaction keeps a key's latest record (its revocation); one key's records stay in order.", partitions: 'The broker default.' },
    ordering: "Per key: issue before revocation. A key's latest record wins.",
    retention: { retentionMs: null, deleteRetentionMs: 7 * day, env: 'TOPIC_DELETE_RETENTION_MS_SUBSCRIPTIONS_API_KEYS_V1' },
    compaction: {
      cleanupPolicy: 'compact',
      reason: 'Every process of every service rebuilds its key table by reading the whole topic from the beginning, so every key (and its revocation) must stay.',
    },
    producer: { service: 'subscriptions', description: 'The api-keys outbox relay publishes a record for ApiKeyIssued, ApiKeyRevoked and PortalSessionIssued.' },
    consumers: [
      { service: 'subscriptions', group: 'gancho-subscriptions.partner-auth.<host>.<pid>.<random>', description: 'Partner authentication.' },
      { service: 'delivery', group: 'gancho-delivery.partner-auth.<host>.<pid>.<random>', description: 'Partner authentication.' },
    ],
    mustUnderstand: [
      'The value validates against this schema. A record it cannot read makes the key unusable (fail closed: it may be a revocation), logged and counted; never a key accepted on a partial reading.',
      'The record stays on the compacted topic, so an upgraded service acts on it.',
    ],
    personalData: [],
    examples: [
      {
        name: 'issued key',
        key: 'key_01JDZB2C3D4E5F6G7H8J9K0M1N',
        headers: {
          ce_specversion: '1.0',
          ce_id: '0193a8c2-0000-7000-8000-000000000003',
          ce_type: 'subscriptions.api_key',
          ce_source: '/gancho/subscriptions',
          ce_time: exampleTime,
          ce_subject: 'key_01JDZB2C3D4E5F6G7H8J9K0M1N',
          'content-type': 'application/json',
        },
        value: {
          key_id: 'key_01JDZB2C3D4E5F6G7H8J9K0M1N',
          partner_id: 'ptn_01JDZ7K2M3N4P5Q6R7S8T9V0WX',
          key_hash: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
          display_prefix: 'gk_live_a1b2c3',
          revoked: false,
          created_at: exampleTime,
          revoked_at: null,
        },
      },
    ],
  };
}

function endpointHealthContract(): TopicContract {
  const endpointId = 'ep_01JDZ9A1B2C3D4E5F6G7H8J9K0';
  return {
    topic: Topics.endpointHealth,
    version: 1,
    summary: 'Delivery asks subscriptions to disable an endpoint (410 Gone, failing for the configured period, refused credentials).',
    key: { description: 'The endpoint id.', valueField: 'endpoint_id', schema: { type: 'string', minLength: 1 } },
    valueSchema: endpointHealthValueSchema(),
    tombstones: { allowed: false },
    headers: cloudEventHeaders({
      type: { const: cloudEventTypes.endpointHealth },
      source: cloudEventSources.delivery,
      subject: 'The endpoint id (the key).',
      id: "The report's id in delivery's event store.",
    }),
    cloudEvents: { type: cloudEventTypes.endpointHealth, typePattern: '^delivery\\.endpoint_health$', source: cloudEventSources.delivery, dataSchema: topicValueSchemaId(Topics.endpointHealth) },
    partitioning: { key: 'endpoint_id', reason: "One endpoint's reports stay in order.", partitions: 'The broker default.' },
    ordering: "Per endpoint. A report older than the partner's last re-enable is ignored by subscriptions; a repeated report changes nothing.",
    retention: { retentionMs: 7 * day, deleteRetentionMs: null, env: 'TOPIC_RETENTION_MS_DELIVERY_ENDPOINT_HEALTH_V1' },
    compaction: { cleanupPolicy: 'delete', reason: 'Requests applied once by a committed consumer group; a week covers any outage of subscriptions.' },
    producer: { service: 'delivery', description: "Delivery's relay publishes each health report of its event store." },
    consumers: [{ service: 'subscriptions', group: 'gancho-subscriptions.endpoint-health (ENDPOINT_HEALTH_CONSUMER_GROUP)', description: 'Applies the report as EndpointDisabled.' }],
    mustUnderstand: ['The value validates against this schema (a known reason, no unknown field). A report it cannot read disables nothing; it is logged and counted (gancho_messaging_records_not_understood_total).'],
    personalData: [],
    examples: [
      {
        name: 'gone',
        key: endpointId,
        headers: {
          ce_specversion: '1.0',
          ce_id: '0193a8c2-0000-7000-8000-000000000004',
          ce_type: 'delivery.endpoint_health',
          ce_source: '/gancho/delivery',
          ce_time: exampleTime,
          ce_subject: endpointId,
          'content-type': 'application/json',
        },
        value: {
          endpoint_id: endpointId,
          partner_id: 'ptn_01JDZ7K2M3N4P5Q6R7S8T9V0WX',
          reason: 'gone',
          detail: '410 Gone from https://hooks.escola-azul.example/gancho',
          occurred_at: exampleTime,
        },
      },
    ],
  };
}

function deliveryAttemptsContract(): TopicContract {
  const messageId = 'msg_2f6c1d0e4b8a4c7e9a1b3c5d7e9f0a2b';
  return {
    topic: Topics.deliveryAttempts,
    version: 1,
    summary: 'Every attempt to deliver a message, for analytics (success rates, latency).',
    key: { description: 'The message id (one event for one endpoint).', valueField: 'message_id', schema: { type: 'string', minLength: 1 } },
    valueSchema: deliveryAttemptValueSchema(),
    tombstones: { allowed: false },
    headers: cloudEventHeaders({
      type: { const: cloudEventTypes.deliveryAttempt },
      source: cloudEventSources.delivery,
      subject: 'The message id (the key).',
      id: '`<message id>:<attempt number>`: the same when an attempt is published twice.',
    }),
    cloudEvents: { type: cloudEventTypes.deliveryAttempt, typePattern: '^delivery\\.attempt$', source: cloudEventSources.delivery, dataSchema: topicValueSchemaId(Topics.deliveryAttempts) },
    partitioning: { key: 'message_id', reason: "A message's attempts stay in attempt order on one partition.", partitions: 'The broker default.' },
    ordering: 'Per message: attempt_number order. At-least-once: de-duplicate on ce_id.',
    retention: { retentionMs: 7 * day, deleteRetentionMs: null, env: 'TOPIC_RETENTION_MS_DELIVERY_ATTEMPTS_V1' },
    compaction: { cleanupPolicy: 'delete', reason: 'A log of facts for analytics; delivery keeps its own attempt log in PostgreSQL.' },
    producer: { service: 'delivery', description: "The attempts relay publishes delivery's attempt log, row by row." },
    consumers: [{ service: 'analytics', group: 'analytics.<team>.<purpose>', description: 'Success rates and latency per partner and endpoint.' }],
    mustUnderstand: ['The value validates against this schema; an unknown outcome is a newer version: do not count it as any known outcome.'],
    personalData: [],
    examples: [
      {
        name: 'succeeded',
        key: messageId,
        headers: {
          ce_specversion: '1.0',
          ce_id: `${messageId}:1`,
          ce_type: 'delivery.attempt',
          ce_source: '/gancho/delivery',
          ce_time: '2026-11-27T19:28:47.480Z',
          ce_subject: messageId,
          'content-type': 'application/json',
        },
        value: {
          message_id: messageId,
          endpoint_id: 'ep_01JDZ9A1B2C3D4E5F6G7H8J9K0',
          partner_id: 'ptn_01JDZ7K2M3N4P5Q6R7S8T9V0WX',
          event_type: 'purchase.waiting_payment',
          attempt_number: 1,
          started_at: '2026-11-27T19:28:47.301Z',
          latency_ms: 179,
          status_code: 200,
          error_class: null,
          outcome: 'succeeded',
          next_attempt_at: null,
        },
      },
    ],
  };
}

/** The operational events subscriptions knows of (an endpoint disabled or enabled, a rotation started); delivery knows the others itself. */
export const operationalEventTypesOnTopic = ['endpoint.disabled', 'endpoint.enabled', 'endpoint.secret_rotation_ending'] as const satisfies readonly OperationalEventType[];

function operationalEventsContract(): TopicContract {
  const example = exampleOperationalPayload('endpoint.disabled');
  return {
    topic: Topics.operationalEvents,
    version: 1,
    summary:
      "What subscriptions knows that a partner's operational endpoints are told: an endpoint disabled (by its partner or on delivery's report) or enabled again, a secret rotation whose previous secret stops verifying.",
    key: { description: 'The endpoint the event is about.', valueField: 'endpoint_id', schema: { type: 'string', minLength: 1 } },
    valueSchema: {
      $schema: schemaDialect,
      $id: topicValueSchemaId(Topics.operationalEvents),
      title: 'Operational event, v1',
      description:
        'Exactly the `data` of the operational webhook of type ce_type: delivery sends `{ type: ce_type, timestamp, data: <this value> }` to every enabled endpoint of the partner whose filter names the type, but the endpoint the event is about.',
      oneOf: operationalEventTypesOnTopic.map((type) => ({ title: type, description: `The data of the ${type} webhook (${operationalSchemaId(type)}#/properties/data).`, ...operationalEventDataSchema(type) })),
    },
    tombstones: { allowed: false },
    headers: cloudEventHeaders({
      type: { type: 'string', enum: [...operationalEventTypesOnTopic], description: 'The operational webhook type.' },
      source: cloudEventSources.subscriptions,
      subject: 'The endpoint id (the key).',
      id: 'The id of the endpoint event (EndpointDisabled, EndpointEnabled, EndpointSecretRotated) behind it; delivery derives the webhook-id from it, so a record read twice is sent once.',
    }),
    cloudEvents: { type: '<operational event type>', typePattern: '^(endpoint|message)\\.[a-z0-9_]+$', source: cloudEventSources.subscriptions, dataSchema: topicValueSchemaId(Topics.operationalEvents) },
    partitioning: { key: 'endpoint_id', reason: "One endpoint's events stay in order (disabled before enabled).", partitions: 'The broker default.' },
    ordering: 'Per endpoint, in the order of its event stream. At-least-once: de-duplicate on ce_id.',
    retention: { retentionMs: 7 * day, deleteRetentionMs: null, env: 'TOPIC_RETENTION_MS_SUBSCRIPTIONS_OPERATIONAL_EVENTS_V1' },
    compaction: { cleanupPolicy: 'delete', reason: 'Facts applied once by a committed consumer group; a week covers any outage of delivery.' },
    producer: { service: 'subscriptions', description: 'The operational-events outbox relay publishes EndpointDisabled, EndpointEnabled and EndpointSecretRotated (with an overlap) of the event store, once committed.' },
    consumers: [
      {
        service: 'delivery',
        group: 'gancho-delivery.operational-events (OPERATIONAL_CONSUMER_GROUP)',
        description: "Stores one message per operational endpoint of the partner (never the endpoint it is about); a rotation's notice is due hours_remaining before the previous secret expires.",
      },
    ],
    mustUnderstand: [
      'ce_type is a type of this list and the value validates against its branch. Otherwise nothing is sent for it; delivery logs and counts it (gancho_messaging_records_not_understood_total) and goes on.',
    ],
    personalData: [],
    examples: [
      {
        name: 'endpoint disabled',
        key: example.data.endpoint_id,
        headers: {
          ce_specversion: '1.0',
          ce_id: '0193a8c2-0000-7000-8000-000000000005',
          ce_type: example.type,
          ce_source: '/gancho/subscriptions',
          ce_time: exampleTime,
          ce_subject: example.data.endpoint_id,
          'content-type': 'application/json',
        },
        value: example.data as unknown as JsonValue,
      },
    ],
  };
}

/** Every topic's contract, one per name in `Topics`. */
export const topicContracts: readonly TopicContract[] = [
  purchaseStatusContract(),
  purchaseStatusV2Contract(),
  subjectKeysContract(),
  personalDataErasuresContract(),
  endpointsContract(),
  apiKeysContract(),
  endpointHealthContract(),
  deliveryAttemptsContract(),
  operationalEventsContract(),
];

/** The contract of a topic by its (contract) name; throws for a name not in the registry. */
export function topicContract(topic: TopicName): TopicContract {
  const contract = topicContracts.find((c) => c.topic === topic);
  if (!contract) throw new TypeError(`no contract for topic ${topic}`);
  return contract;
}

/** The Kafka topic configuration a contract asks for at creation (`cleanup.policy`, `retention.ms` / `delete.retention.ms`), with an override of the retention in ms. */
export function topicConfigOf(contract: TopicContract, retentionOverrideMs?: number): Record<string, string> {
  if (contract.compaction.cleanupPolicy === 'compact') {
    const deleteRetention = retentionOverrideMs ?? contract.retention.deleteRetentionMs;
    return {
      'cleanup.policy': 'compact',
      ...(deleteRetention === null ? {} : { 'delete.retention.ms': String(deleteRetention) }),
      ...(contract.compaction.segmentMs === undefined ? {} : { 'segment.ms': String(contract.compaction.segmentMs) }),
      ...(contract.compaction.maxCompactionLagMs === undefined ? {} : { 'max.compaction.lag.ms': String(contract.compaction.maxCompactionLagMs) }),
    };
  }
  const retention = retentionOverrideMs ?? contract.retention.retentionMs;
  return { 'cleanup.policy': 'delete', ...(retention === null ? {} : { 'retention.ms': String(retention) }) };
}
