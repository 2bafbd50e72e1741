import type { ActiveCampaignErasure, ActiveCampaignMappingV1, EndpointDestinationV1, EndpointDisabledReason, EndpointOrdering, EndpointStateV1, PayloadFilterJson } from '@gancho/contracts';
import type { StoredEvent } from '@gancho/event-store';
import type { Endpoint, EndpointDestination, EndpointEvent, EndpointSettings, SealedHeaderValue } from '@gancho/subscriptions-domain';
import type { SubscriptionsEventMetadata } from '../platform/caller';
import { endpointAuthStateV1, endpointAuthView, type EndpointAuthView } from './endpoint-auth';

/** A destination as the partner API shows it: an ActiveCampaign token only by its last four characters. */
export type DestinationView =
  | { type: 'webhook' }
  | {
      type: 'activecampaign';
      api_url: string;
      api_token_last4: string;
      mapping: ActiveCampaignMappingV1;
      event_tracking: { actid: string; event_key_last4: string } | null;
      on_erasure: ActiveCampaignErasure;
    };

export function destinationView(destination: EndpointDestination): DestinationView {
  if (destination.type === 'webhook') return { type: 'webhook' };
  const tracking = destination.eventTracking ?? null;
  return {
    type: 'activecampaign',
    api_url: destination.apiUrl,
    api_token_last4: destination.apiTokenHint,
    mapping: destination.mapping,
    event_tracking: tracking === null ? null : { actid: tracking.actid, event_key_last4: tracking.eventKeyHint },
    on_erasure: destination.onErasure ?? 'keep',
  };
}

function destinationState(destination: EndpointDestination): EndpointDestinationV1 {
  if (destination.type === 'webhook') return { type: 'webhook' };
  const tracking = destination.eventTracking ?? null;
  return {
    type: 'activecampaign',
    api_url: destination.apiUrl,
    api_token_sealed: destination.sealedApiToken,
    mapping: destination.mapping,
    event_tracking: tracking === null ? null : { actid: tracking.actid, event_key_sealed: tracking.sealedEventKey },
    on_erasure: destination.onErasure ?? 'keep',
  };
}

/** A custom header as the partner API shows it: the value never, its last four characters when it is long enough (see headerValueHint). */
export interface HeaderView {
  value_last4: string | null;
}

export function headersView(headers: Readonly<Record<string, SealedHeaderValue>>): Record<string, HeaderView> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, { value_last4: value.hint }]));
}

/** An endpoint as the partner API shows it (snake_case; no secrets). */
export interface EndpointView {
  id: string;
  partner_id: string;
  url: string;
  destination: DestinationView;
  description: string;
  event_types: string[];
  enabled: boolean;
  disabled_reason: EndpointDisabledReason | null;
  disabled_detail: string | null;
  disabled_at: string | null;
  headers: Record<string, HeaderView>;
  rate_limit_per_second: number | null;
  ordering: EndpointOrdering;
  /** null: every event of event_types. */
  payload_filter: PayloadFilterJson | null;
  auth: EndpointAuthView | null;
  include_personal_data: boolean;
  version: number;
  created_at: string;
  updated_at: string;
}

export function endpointView(endpoint: Endpoint): EndpointView {
  const { settings } = endpoint;
  return {
    id: endpoint.endpointId,
    partner_id: endpoint.partnerId,
    url: settings.url,
    destination: destinationView(settings.destination),
    description: settings.description,
    event_types: settings.eventTypes,
    enabled: endpoint.enabled,
    disabled_reason: endpoint.disabled?.reason ?? null,
    disabled_detail: endpoint.disabled?.detail ?? null,
    disabled_at: endpoint.disabled?.at ?? null,
    headers: headersView(settings.headers),
    rate_limit_per_second: settings.rateLimitPerSecond,
    ordering: settings.ordering,
    payload_filter: settings.payloadFilter ?? null,
    auth: endpointAuthView(settings.auth),
    include_personal_data: settings.includePersonalData,
    version: endpoint.version,
    created_at: endpoint.createdAt,
    updated_at: endpoint.updatedAt,
  };
}

/** The value published on `subscriptions.endpoints.v1`: the full state, secrets sealed. */
export function endpointStateV1(endpoint: Endpoint): EndpointStateV1 {
  const { current, previous } = endpoint.secrets;
  return {
    endpoint_id: endpoint.endpointId,
    partner_id: endpoint.partnerId,
    url: endpoint.settings.url,
    destination: destinationState(endpoint.settings.destination),
    description: endpoint.settings.description,
    event_types: endpoint.settings.eventTypes,
    enabled: endpoint.enabled,
    disabled_reason: endpoint.disabled?.reason ?? null,
    disabled_detail: endpoint.disabled?.detail ?? null,
    // An older consumer reads plain headers here; the values are sealed in sealed_headers instead (see EndpointStateV1).
    headers: {},
    sealed_headers: Object.fromEntries(Object.entries(endpoint.settings.headers).map(([name, value]) => [name, value.sealed])),
    rate_limit_per_second: endpoint.settings.rateLimitPerSecond,
    ordering: endpoint.settings.ordering,
    // Left out when there is none, so states without a filter read as before.
    ...(endpoint.settings.payloadFilter ? { payload_filter: endpoint.settings.payloadFilter } : {}),
    // Left out when none, so a state without auth is what a delivery of the previous release reads (it would hold back a state with an unknown field).
    ...authStateField(endpoint),
    include_personal_data: endpoint.settings.includePersonalData,
    signing_secrets: [current, ...(previous ? [previous] : [])].map((s) => ({ sealed: s.sealed, valid_from: s.validFrom, valid_until: s.validUntil })),
    version: endpoint.version,
    created_at: endpoint.createdAt,
    updated_at: endpoint.updatedAt,
  };
}

function authStateField(endpoint: Endpoint): Pick<EndpointStateV1, 'auth'> {
  const auth = endpointAuthStateV1(endpoint.settings.auth);
  return auth === null ? {} : { auth };
}

/** API names of the settings, for the audit trail. */
function settingsChanges(changes: Partial<EndpointSettings>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (changes.url !== undefined) out['url'] = changes.url;
  // The token is never in the trail, sealed or not: its last four characters say which one it was.
  if (changes.destination !== undefined) out['destination'] = destinationView(changes.destination);
  if (changes.description !== undefined) out['description'] = changes.description;
  if (changes.eventTypes !== undefined) out['event_types'] = changes.eventTypes;
  // Header values may be credentials of the partner's receiver: the trail names them only.
  if (changes.headers !== undefined) out['header_names'] = Object.keys(changes.headers);
  if (changes.rateLimitPerSecond !== undefined) out['rate_limit_per_second'] = changes.rateLimitPerSecond;
  if (changes.ordering !== undefined) out['ordering'] = changes.ordering;
  if (changes.payloadFilter !== undefined) out['payload_filter'] = changes.payloadFilter;
  // Masked as the API shows it: which credential it was, never the credential.
  if (changes.auth !== undefined) out['auth'] = endpointAuthView(changes.auth);
  if (changes.includePersonalData !== undefined) out['include_personal_data'] = changes.includePersonalData;
  return out;
}

export interface AuditEntry {
  event_id: string;
  type: EndpointEvent['type'];
  version: number;
  occurred_at: string;
  recorded_at: string;
  actor: SubscriptionsEventMetadata['actor'] | null;
  changes: Record<string, unknown>;
}

/** One entry of `GET /endpoints/{id}/audit`: who, when, what; never a secret, sealed or not. */
export function auditEntry(stored: StoredEvent<EndpointEvent['data']>): AuditEntry {
  const event = { type: stored.type, data: stored.data } as EndpointEvent;
  let changes: Record<string, unknown>;
  switch (event.type) {
    case 'EndpointCreated':
      changes = { ...settingsChanges(event.data.settings), enabled: event.data.enabled };
      break;
    case 'EndpointUpdated':
      changes = settingsChanges(event.data.changes);
      break;
    case 'EndpointSecretRotated':
      changes = { previous_secret_valid_until: event.data.previousValidUntil };
      break;
    case 'EndpointDisabled':
      changes = { enabled: false, reason: event.data.reason, detail: event.data.detail };
      break;
    case 'EndpointEnabled':
      changes = { enabled: true };
      break;
    case 'EndpointDeleted':
      changes = {};
      break;
    default: {
      const _exhaustive: never = event;
      changes = _exhaustive;
    }
  }
  return {
    event_id: stored.eventId,
    type: event.type,
    version: stored.streamVersion,
    occurred_at: event.data.occurredAt,
    recorded_at: stored.recordedAt.toISOString(),
    actor: (stored.metadata as Partial<SubscriptionsEventMetadata>).actor ?? null,
    changes,
  };
}
