// The partner APIs, through the console server's same-origin proxy. The
// credential (API key or portal token) lives in this module's memory only:
// never in localStorage, sessionStorage, cookies or the URL.

export interface Problem {
  status: number;
  code: string;
  detail?: string;
  reason?: string;
  retry_after_seconds?: number;
  errors?: { path: string; message: string }[];
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.code);
    this.name = 'ApiError';
  }
}

export type Service = 'subscriptions' | 'delivery';

export interface Endpoint {
  id: string;
  partner_id: string;
  url: string;
  description: string;
  event_types: string[];
  enabled: boolean;
  disabled_reason: 'by_partner' | 'gone' | 'failing' | 'unauthorized' | null;
  disabled_detail: string | null;
  disabled_at: string | null;
  /** Custom headers by name; values are never shown, only their last four characters (null for a short value). */
  headers: Record<string, { value_last4: string | null }>;
  rate_limit_per_second: number | null;
  ordering: string;
  created_at: string;
  updated_at: string;
  /** Where deliveries go: signed webhooks, or an ActiveCampaign account (its token shown by its last four characters only). */
  destination?: { type: 'webhook' } | { type: 'activecampaign'; api_url: string; api_token_last4: string; mapping?: unknown };
}

export interface EventTypeInfo {
  type: string;
  description: string;
  phase: string;
  schema: unknown;
}

export interface MessageSummary {
  message_id: string;
  endpoint_id: string;
  event_type: string;
  purchase_id: string;
  status: 'pending' | 'sending' | 'succeeded' | 'failed' | 'exhausted' | 'skipped';
  attempt_count: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
}

export interface Attempt {
  attempt_number: number;
  started_at: string;
  latency_ms: number;
  status_code: number | null;
  error_class: string | null;
  error_message: string | null;
  response_snippet: string | null;
  outcome: string;
  next_attempt_at: string | null;
}

export interface MessageDetail extends MessageSummary {
  waiting_behind: string | null;
  payload: unknown;
  attempts: Attempt[];
}

export interface Stats {
  attempts: number;
  succeeded: number;
  success_rate: number | null;
  latency_ms: { p50: number | null; p90: number | null; p99: number | null };
  enabled: boolean;
  disabled_reason: string | null;
  last_success_at: string | null;
  failing_since: string | null;
  consecutive_failures: number;
}

export interface TimeseriesPoint {
  start: string;
  attempts: number;
  succeeded: number;
  failed: number;
  success_rate: number | null;
  latency_ms: { p50: number | null; p95: number | null; max: number | null };
}

export interface Timeseries {
  bucket: string;
  bucket_seconds: number;
  points: TimeseriesPoint[];
}

export interface Me {
  partner: { id: string; name: string };
  credential: { key_id: string; kind: 'api_key' | 'portal_session'; expires_at: string | null };
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

let credential: string | null = null;
let onUnauthorized: ((problem: Problem) => void) | null = null;

/** Holds the credential for this page's lifetime (memory only). */
export function setCredential(token: string | null, whenRefused: ((problem: Problem) => void) | null = null): void {
  credential = token;
  onUnauthorized = whenRefused;
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** One call to a partner API; problem+json answers become ApiError. */
export async function api<T>(service: Service, path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<T> {
  const token = init.token ?? credential;
  let response: Response;
  try {
    response = await fetch(`/api/${service}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError({ status: 0, code: 'NETWORK_ERROR' });
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const problem: Problem = typeof body === 'object' && body !== null && 'code' in body ? (body as Problem) : { status: response.status, code: 'HTTP_' + response.status };
    problem.status = response.status;
    if (response.status === 401 && init.token === undefined && onUnauthorized) onUnauthorized(problem);
    throw new ApiError(problem);
  }
  return body as T;
}
