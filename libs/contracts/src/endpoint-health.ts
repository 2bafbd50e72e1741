/**
 * Why delivery asks for an endpoint to be disabled: 410 Gone, no success for
 * the configured period, or a destination that refuses Gancho's credentials
 * (an ActiveCampaign API token answered 401/403).
 */
export const endpointHealthReasons = ['gone', 'failing', 'unauthorized'] as const;
export type EndpointHealthReason = (typeof endpointHealthReasons)[number];

/**
 * What delivery publishes on `delivery.endpoint-health.v1` (key = endpoint
 * id) when an endpoint should be disabled. Subscriptions applies it as
 * EndpointDisabled and republishes the endpoint's state; a report older than
 * the partner's last re-enable is ignored.
 */
export interface EndpointHealthReportV1 {
  endpoint_id: string;
  partner_id: string;
  reason: EndpointHealthReason;
  /** For the partner: e.g. "410 Gone from https://…", "no successful delivery since …", "ActiveCampaign refused the API token (403) …". */
  detail: string;
  /** RFC 3339: when delivery decided. */
  occurred_at: string;
}
