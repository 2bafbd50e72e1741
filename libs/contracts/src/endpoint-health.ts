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

/** What is wrong with a value as an `EndpointHealthReportV1` (empty when it is one). */
export function endpointHealthReportProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['must be an object'];
  const report = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of ['endpoint_id', 'partner_id', 'occurred_at'] as const) {
    if (typeof report[key] !== 'string' || report[key] === '') problems.push(`${key}: must be a non-empty string`);
  }
  if (typeof report['occurred_at'] === 'string' && Number.isNaN(Date.parse(report['occurred_at']))) problems.push('occurred_at: must be a date-time');
  if (!endpointHealthReasons.includes(report['reason'] as EndpointHealthReason)) problems.push(`reason: must be one of ${endpointHealthReasons.join(', ')}`);
  if (typeof report['detail'] !== 'string') problems.push('detail: must be a string');
  return problems;
}
