import type { EventTypeFilter } from './event-types';

/** `per_purchase` is reserved: delivery may later keep each purchase's events in order per endpoint. */
export const endpointOrderings = ['none', 'per_purchase'] as const;
export type EndpointOrdering = (typeof endpointOrderings)[number];

/**
 * Why an endpoint is disabled: its partner turned it off, it answered 410
 * Gone, or it failed without a single success for the configured period.
 */
export const endpointDisabledReasons = ['by_partner', 'gone', 'failing'] as const;
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
  /** Extra request headers the partner asked for (names as given; never Gancho's own). */
  headers: Record<string, string>;
  /** Deliveries per second at most; null for no limit of the partner's own. */
  rate_limit_per_second: number | null;
  ordering: EndpointOrdering;
  /** Sign with every secret whose window holds the send time (two during a rotation), space-separated signatures. */
  signing_secrets: SealedSigningSecretV1[];
  /** Version of the endpoint's stream: a consumer ignores a state older than one it has. */
  version: number;
  /** RFC 3339. */
  created_at: string;
  updated_at: string;
}
