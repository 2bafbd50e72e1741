import type { EndpointAuthV1 } from './endpoint-auth';
import type { EventTypeFilter } from './event-types';
import type { PurchaseStatus } from './status-catalog';

/** `per_purchase` is reserved: delivery may later keep each purchase's events in order per endpoint. */
export const endpointOrderings = ['none', 'per_purchase'] as const;
export type EndpointOrdering = (typeof endpointOrderings)[number];

/**
 * Why an endpoint is disabled: its partner turned it off, it answered 410
 * Gone, it failed without a single success for the configured period, or its
 * destination refused Gancho's credentials (ActiveCampaign 401/403).
 */
export const endpointDisabledReasons = ['by_partner', 'gone', 'failing', 'unauthorized'] as const;
export type EndpointDisabledReason = (typeof endpointDisabledReasons)[number];

/**
 * A signing secret, sealed by `@gancho/secret-box` (`v1.<keyId>.<…>`) with
 * the context `endpoint:<endpoint_id>`; open it with the same key
 * configuration (`SECRETS_ENCRYPTION_KEY`). The plain secret is
 * `whsec_<base64 of 32 bytes>`.
 */
export interface SealedSigningSecretV1 {
  sealed: string;
  /** RFC 3339: sign with it from then on. */
  valid_from: string;
  /** RFC 3339: stop signing with it then; null for the current secret. */
  valid_until: string | null;
}

/** The context a signing secret of an endpoint is sealed under. */
export function endpointSecretContext(endpointId: string): string {
  return `endpoint:${endpointId}`;
}

/** Where an endpoint's events go: a signed webhook POST (the default), or an ActiveCampaign account. */
export const endpointDestinationTypes = ['webhook', 'activecampaign'] as const;
export type EndpointDestinationType = (typeof endpointDestinationTypes)[number];

/** The custom fields Gancho fills on an ActiveCampaign contact; each is a personalization tag (perstag), or null to leave it out. */
export const activeCampaignFieldKeys = ['course', 'purchase_id', 'status', 'phase', 'price'] as const;
export type ActiveCampaignFieldKey = (typeof activeCampaignFieldKeys)[number];

/**
 * How a status event becomes ActiveCampaign data (see docs/activecampaign.md):
 * the contact is synced by e-mail with these custom fields, tagged
 * `<tag_prefix><status>` when `status_tags`, and also tagged `recovery_tag`
 * on the `recovery_statuses` (cart recovery). Always complete on the topic:
 * subscriptions fills the defaults in.
 */
export interface ActiveCampaignMappingV1 {
  tag_prefix: string;
  status_tags: boolean;
  /** null: no recovery tag. */
  recovery_tag: string | null;
  recovery_statuses: PurchaseStatus[];
  fields: Record<ActiveCampaignFieldKey, string | null>;
}

/** The mapping an ActiveCampaign endpoint gets unless its partner says otherwise. */
export function defaultActiveCampaignMapping(): ActiveCampaignMappingV1 {
  return {
    tag_prefix: 'gancho:',
    status_tags: true,
    recovery_tag: 'gancho:cart_recovery',
    // The lost statuses a recovery campaign can still win back; `denied` (credit refused for good) is not one.
    recovery_statuses: ['abandonment_before_signed', 'link_inactive', 'expired'],
    fields: { course: 'GANCHO_COURSE', purchase_id: 'GANCHO_PURCHASE_ID', status: 'GANCHO_STATUS', phase: 'GANCHO_PHASE', price: 'GANCHO_PRICE' },
  };
}

export type EndpointDestinationV1 =
  | { type: 'webhook' }
  | {
      type: 'activecampaign';
      /** The account's API base URL, e.g. https://<account>.api-us1.com (also the endpoint's `url`). */
      api_url: string;
      /** The API token, sealed by `@gancho/secret-box` with the context `endpointDestinationSecretContext(endpoint_id)`. */
      api_token_sealed: string;
      mapping: ActiveCampaignMappingV1;
      /**
       * Off when absent or null. On: each status is also recorded as an AC
       * event (`POST https://trackcmp.net/event`, named after the status) with
       * the account's tracking id and event key, the key sealed with the
       * context `endpointEventKeySecretContext(endpoint_id)`.
       */
      event_tracking?: { actid: string; event_key_sealed: string } | null;
      /** When a student's personal data is erased: `delete` the contact Gancho synced in the account, or `keep` it (absent: keep). */
      on_erasure?: ActiveCampaignErasure;
    };

/** What an ActiveCampaign destination does with a contact when its student's personal data is erased (LGPD). */
export const activeCampaignErasures = ['keep', 'delete'] as const;
export type ActiveCampaignErasure = (typeof activeCampaignErasures)[number];

/** The context an endpoint's ActiveCampaign event key is sealed under. */
export function endpointEventKeySecretContext(endpointId: string): string {
  return `endpoint-destination:${endpointId}:event-key`;
}

/** The context an endpoint's destination credential (an ActiveCampaign API token) is sealed under. */
export function endpointDestinationSecretContext(endpointId: string): string {
  return `endpoint-destination:${endpointId}`;
}

/**
 * The context a custom header value of an endpoint is sealed under; the name
 * is lower-cased (header names are case-insensitive), so a sealed value moved
 * onto another header or endpoint does not open.
 */
export function endpointHeaderSecretContext(endpointId: string, headerName: string): string {
  return `endpoint-header:${endpointId}:${headerName.toLowerCase()}`;
}

/**
 * The extra request headers of a state in the clear: `sealed_headers` opened
 * with `open(sealed, context)`, or, in a state published before header values
 * were sealed, its plain `headers`. `open` throws if a value does not open.
 */
export function openEndpointHeaders(state: Pick<EndpointStateV1, 'endpoint_id' | 'headers' | 'sealed_headers'>, open: (sealed: string, context: string) => string): Record<string, string> {
  if (state.sealed_headers === undefined) return { ...state.headers };
  return Object.fromEntries(Object.entries(state.sealed_headers).map(([name, sealed]) => [name, open(sealed, endpointHeaderSecretContext(state.endpoint_id, name))]));
}

/** The destination of a state; states published before destinations existed are webhooks. */
export function destinationOf(state: Pick<EndpointStateV1, 'destination'>): EndpointDestinationV1 {
  return state.destination ?? { type: 'webhook' };
}

/** A payload filter as the partner wrote it (checked by subscriptions when saved; see docs/filters.md). */
export type PayloadFilterJson = { [key: string]: unknown };

/**
 * The full state of an endpoint, published on `subscriptions.endpoints.v1`
 * (compacted; key = endpoint id) after every change; a delete publishes a
 * tombstone (an empty value). Delivery rebuilds its routing table from it.
 */
export interface EndpointStateV1 {
  endpoint_id: string;
  partner_id: string;
  url: string;
  description: string;
  event_types: EventTypeFilter;
  enabled: boolean;
  /** Set while the endpoint is disabled. */
  disabled_reason: EndpointDisabledReason | null;
  /** A human-readable explanation from whoever disabled it; null while enabled. */
  disabled_detail: string | null;
  /**
   * Kept for consumers of the previous release, which read it as the plain
   * extra request headers: always `{}` in states published since header values
   * are sealed (they may be a receiver's credentials). Read `sealed_headers`;
   * states published before it existed have their plain values here.
   */
  headers: Record<string, string>;
  /**
   * Extra request headers the partner asked for (names as given; never
   * Gancho's own): each value sealed by `@gancho/secret-box` with the context
   * `endpointHeaderSecretContext(endpoint_id, name)`. Absent in states
   * published before header values were sealed: read `headers` then.
   */
  sealed_headers?: Record<string, string>;
  /** Deliveries per second at most; null for no limit of the partner's own. */
  rate_limit_per_second: number | null;
  ordering: EndpointOrdering;
  /** false: the student's name and e-mail are left out of its webhooks (`student: { id }`). Absent (states published before it existed): true. */
  include_personal_data?: boolean;
  /** Absent in states published before destinations existed: read it with `destinationOf` (absent = webhook). */
  destination?: EndpointDestinationV1;
  /**
   * Payload filter over the webhook's `data` (docs/filters.md): only events it
   * matches are delivered. Absent: every event of `event_types`. A consumer
   * that cannot evaluate it must send nothing to the endpoint.
   */
  payload_filter?: PayloadFilterJson;
  /** Authentication besides the signature (Basic, OAuth 2.0 client credentials, mTLS), secrets sealed; absent (states published before it existed) or null: none. */
  auth?: EndpointAuthV1 | null;
  /** Sign with every secret whose window holds the send time (two during a rotation), space-separated signatures. */
  signing_secrets: SealedSigningSecretV1[];
  /** Version of the endpoint's stream: a consumer ignores a state older than one it has. */
  version: number;
  /** RFC 3339. */
  created_at: string;
  updated_at: string;
}
