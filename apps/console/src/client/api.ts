// The partner APIs, through the console server's same-origin proxy. The
// credential (API key or portal token) lives in this module's memory only:
// never in localStorage, sessionStorage, cookies or the URL.

import type { operations as DeliveryOperations } from './api-types/delivery';
import type { components as SubscriptionsComponents, operations as SubscriptionsOperations } from './api-types/subscriptions';

// The shapes of the partner APIs come from their OpenAPI documents (docs/openapi), through the types
// openapi-typescript generates into api-types/ (a test fails when they are stale): nothing here is copied by hand.
type JsonBody<R> = R extends { content: { 'application/json': infer Body } } ? Body : never;
type SubscriptionsAnswer<O extends keyof SubscriptionsOperations, S extends keyof SubscriptionsOperations[O]['responses']> = JsonBody<SubscriptionsOperations[O]['responses'][S]>;
type DeliveryAnswer<O extends keyof DeliveryOperations, S extends keyof DeliveryOperations[O]['responses']> = JsonBody<DeliveryOperations[O]['responses'][S]>;

/** RFC 9457 problem details with the stable code (NETWORK_ERROR when no answer came). */
export type Problem = Partial<SubscriptionsComponents['schemas']['Problem']> & { status: number; code: string; reason?: string };

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.code);
    this.name = 'ApiError';
  }
}

export type Service = 'subscriptions' | 'delivery';

export type Endpoint = SubscriptionsAnswer<'getEndpoint', 200>;
export type CreateEndpointBody = JsonBody<SubscriptionsOperations['createEndpoint']['requestBody']>;
export type UpdateEndpointBody = JsonBody<SubscriptionsOperations['updateEndpoint']['requestBody']>;
export type EndpointOrdering = Endpoint['ordering'];
export type EndpointSecrets = SubscriptionsAnswer<'getEndpointSecret', 200>;
export type EventTypeInfo = SubscriptionsAnswer<'listEventTypes', 200>['items'][number];
export type OperationalEventTypeInfo = SubscriptionsAnswer<'listOperationalEventTypes', 200>['items'][number];
export type Me = SubscriptionsAnswer<'getSelf', 200>;
export type MessageSummary = DeliveryAnswer<'listMessages', 200>['items'][number];
export type MessageQuery = NonNullable<DeliveryOperations['listMessages']['parameters']['query']>;
export type MessageDetail = DeliveryAnswer<'getMessage', 200>;
export type Attempt = MessageDetail['attempts'][number];
export type Stats = DeliveryAnswer<'endpointStats', 200>;
export type Timeseries = DeliveryAnswer<'endpointStatsTimeseries', 200>;
export type TimeseriesPoint = Timeseries['points'][number];
export type RecoverAnswer = DeliveryAnswer<'recoverEndpoint', 202>;
export type TestAnswer = DeliveryAnswer<'testEndpoint', 202>;
export type StatusEvent = DeliveryAnswer<'listEvents', 200>['items'][number];
export type EventDelivery = StatusEvent['deliveries'][number];

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
