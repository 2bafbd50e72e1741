import { activeCampaignErasures, endpointDisabledReasons, endpointOrderings, phases, webhookEventTypes } from '@gancho/contracts';
import { z } from 'zod';
import { endpointAuthResponse } from './endpoints/endpoint-auth';

// What the partner API answers, for its OpenAPI document (and so the console's generated types). Open objects: a
// field added later does not break a client built from today's document.

const instant = z.string().describe('RFC 3339, UTC.');

export const selfResponse = z.looseObject({
  partner: z.looseObject({ id: z.string(), name: z.string() }),
  credential: z.looseObject({ key_id: z.string(), kind: z.enum(['api_key', 'portal_session']), expires_at: instant.nullable() }),
});

export const eventTypeResponse = z.looseObject({
  type: z.enum(webhookEventTypes),
  description: z.string().describe('In English; the console shows its own translation of each type.'),
  phase: z.enum(phases).nullable().describe("The status's phase; null for a type that is not a status (purchase.personal_data_erased)."),
  schema: z.record(z.string(), z.unknown()).describe('The JSON Schema (2020-12) of the webhook body.'),
});
export const eventTypeListResponse = z.looseObject({ items: z.array(eventTypeResponse) });

const destinationResponse = z.union([
  z.looseObject({ type: z.literal('webhook') }),
  z.looseObject({
    type: z.literal('activecampaign'),
    api_url: z.string(),
    api_token_last4: z.string(),
    mapping: z.record(z.string(), z.unknown()),
    event_tracking: z.looseObject({ actid: z.string(), event_key_last4: z.string() }).nullable(),
    on_erasure: z.enum(activeCampaignErasures).describe("On a student's erasure: delete the synced contact, or keep it."),
  }),
]);

export const endpointResponse = z.looseObject({
  id: z.string(),
  partner_id: z.string(),
  url: z.string(),
  destination: destinationResponse,
  description: z.string(),
  event_types: z.array(z.string()),
  enabled: z.boolean(),
  disabled_reason: z.enum(endpointDisabledReasons).nullable(),
  disabled_detail: z.string().nullable(),
  disabled_at: instant.nullable(),
  headers: z.record(z.string(), z.looseObject({ value_last4: z.string().nullable() })).describe('Custom headers by name; values never shown, only their last four characters (null for a short value).'),
  rate_limit_per_second: z.number().int().nullable(),
  ordering: z.enum(endpointOrderings),
  payload_filter: z.record(z.string(), z.unknown()).nullable().describe('Only events whose data it matches are delivered; null: every event of event_types (docs/filters.md).'),
  auth: endpointAuthResponse,
  include_personal_data: z.boolean().describe("false: webhooks carry the student's id only."),
  version: z.number().int(),
  created_at: instant,
  updated_at: instant,
});
export const endpointPageResponse = z.looseObject({ items: z.array(endpointResponse), next_cursor: z.string().nullable() });

export const secretsResponse = z.looseObject({
  current: z.looseObject({ secret: z.string(), valid_from: instant }),
  previous: z.looseObject({ secret: z.string(), valid_until: instant }).nullable(),
});

export const rotateResponse = z.looseObject({ rotated_at: instant, previous_valid_until: instant.nullable() });

export const auditResponse = z.looseObject({
  items: z.array(
    z.looseObject({
      event_id: z.string(),
      type: z.string(),
      version: z.number().int(),
      occurred_at: instant,
      recorded_at: instant,
      actor: z.record(z.string(), z.unknown()).nullable(),
      changes: z.record(z.string(), z.unknown()),
    }),
  ),
});
