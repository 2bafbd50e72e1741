import { eventTypes, operationalEventTypes, webhookEventTypes } from '@gancho/contracts';
import { z } from 'zod';

// What the partner API answers, for its OpenAPI document (and so the console's generated types). Open objects: a
// field added later does not break a client built from today's document.

export const messageStatuses = ['pending', 'sending', 'succeeded', 'failed', 'exhausted', 'skipped'] as const;
const instant = z.string().describe('RFC 3339, UTC.');
const nullableInstant = instant.nullable();

export const messageSummaryResponse = z.looseObject({
  message_id: z.string(),
  endpoint_id: z.string(),
  event_type: z.enum([...webhookEventTypes, ...operationalEventTypes]).describe('A purchase event type, or an operational one (endpoint.*, message.*) for a message to an operational endpoint.'),
  purchase_id: z.string().describe('Empty for an operational message (it is about an endpoint, not a purchase).'),
  status: z
    .enum(messageStatuses)
    .describe(
      'pending: waiting for its next attempt (the first, or a retry after a failure); sending: an attempt is under way; succeeded: the endpoint answered 2xx; failed / exhausted: the last attempt failed, no retry left for exhausted; skipped: given up by the partner.',
    ),
  attempt_count: z.number().int(),
  next_attempt_at: nullableInstant,
  last_attempt_at: nullableInstant,
  last_status_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  created_at: instant,
  sequence: z.number().int(),
  ordered: z.boolean().describe('Held in its purchase’s order (the endpoint’s ordering is per_purchase).'),
});

export const messagePageResponse = z.looseObject({ items: z.array(messageSummaryResponse), next_cursor: z.string().nullable() });

export const attemptResponse = z.looseObject({
  attempt_number: z.number().int(),
  started_at: instant,
  latency_ms: z.number(),
  status_code: z.number().int().nullable(),
  error_class: z.string().nullable().describe('Why no 2xx: e.g. http_status, timeout, connection_refused, dns, ssrf_blocked.'),
  error_message: z.string().nullable(),
  response_snippet: z.string().nullable(),
  outcome: z.string(),
  next_attempt_at: nullableInstant,
});

export const messageDetailResponse = messageSummaryResponse.extend({
  waiting_behind: z.string().nullable().describe('The earlier message of the same purchase this one waits for (ordered endpoints).'),
  payload: z.unknown().describe('The webhook body, as sent.'),
  attempts: z.array(attemptResponse),
});

export const messageActionResponse = z.looseObject({ message_id: z.string(), status: z.enum(messageStatuses) });
export const recoverResponse = z.looseObject({ endpoint_id: z.string(), resent: z.number().int() });
export const testResponse = z.looseObject({ message_id: z.string(), event_type: z.enum(eventTypes) });

const latency = (names: readonly string[]) => z.looseObject(Object.fromEntries(names.map((name) => [name, z.number().nullable()])));

export const statsResponse = z.looseObject({
  endpoint_id: z.string(),
  since: instant,
  until: instant,
  attempts: z.number().int(),
  succeeded: z.number().int(),
  success_rate: z.number().nullable(),
  latency_ms: latency(['p50', 'p90', 'p99']),
  enabled: z.boolean(),
  disabled_reason: z.string().nullable(),
  last_success_at: nullableInstant,
  failing_since: nullableInstant,
  consecutive_failures: z.number().int(),
});

export const timeseriesResponse = z.looseObject({
  endpoint_id: z.string(),
  since: instant,
  until: instant,
  bucket: z.string(),
  bucket_seconds: z.number().int(),
  points: z.array(
    z.looseObject({
      start: instant,
      attempts: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
      success_rate: z.number().nullable(),
      latency_ms: latency(['p50', 'p95', 'max']),
    }),
  ),
});
