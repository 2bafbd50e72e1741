/**
 * Every stable error code of the platform and the HTTP status it becomes.
 * Domain and library code throw errors that carry a `code`; only this table,
 * at the HTTP edge, turns a code into a status.
 */
export const httpStatusByErrorCode: Record<string, number> = {
  // Request shape
  VALIDATION_FAILED: 400,
  INVALID_COMMAND: 400,
  INVALID_CLOUDEVENT: 400,
  MALFORMED_JSON: 400,
  // HTTP/1.1 itself, refused by Node's parser before any route (see client-errors.ts)
  MALFORMED_REQUEST: 400,
  REQUEST_HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  // Who is calling
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  // Resources and routes
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PURCHASE_NOT_FOUND: 404,
  PARTNER_NOT_FOUND: 404,
  API_KEY_NOT_FOUND: 404,
  ENDPOINT_NOT_FOUND: 404,
  EVENT_TYPE_NOT_FOUND: 404,
  SUBJECT_NOT_FOUND: 404,
  // State
  ILLEGAL_TRANSITION: 409,
  PURCHASE_ALREADY_EXISTS: 409,
  STREAM_VERSION_CONFLICT: 409,
  DUPLICATE_EVENT_ID: 409,
  PARTNER_ALREADY_EXISTS: 409,
  ENDPOINT_ALREADY_EXISTS: 409,
  // Endpoint URLs that Gancho may not call (SSRF): loopback, private, metadata…
  ENDPOINT_URL_NOT_ALLOWED: 422,
  // Idempotency-Key
  IDEMPOTENCY_KEY_INVALID: 400,
  IDEMPOTENCY_KEY_REUSED: 422,
  // Limits and dependencies
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  // The service's database cannot be reached (refused, dropped, restarting).
  DATABASE_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
};

/** Codes whose outcome may change if the same request is sent again. */
export const retryableErrorCodes = new Set(['STREAM_VERSION_CONFLICT', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE', 'DATABASE_UNAVAILABLE', 'INTERNAL_ERROR']);

export function httpStatusOf(code: string): number {
  return httpStatusByErrorCode[code] ?? 500;
}
