import { requireInRange } from './errors';
import { nextAttemptAt, type RetrySchedule } from './retry-schedule';

/** Response headers as an HTTP client gives them (names in any case). */
export type ResponseHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Why an attempt got no response, as the HTTP adapter classifies it.
 * `auth_token`: the endpoint's OAuth token endpoint gave no token, so the
 * webhook was not sent (not a 401 of the endpoint's own).
 */
export type AttemptErrorClass = 'timeout' | 'connect_refused' | 'dns' | 'tls' | 'reset' | 'ssrf_blocked' | 'invalid_url' | 'body_too_large' | 'auth_token' | 'other';

/** What one HTTP attempt produced: a response (any status), or no response. */
export type AttemptResult = { kind: 'response'; status: number; headers: ResponseHeaders; elapsedMs: number } | { kind: 'error'; errorClass: AttemptErrorClass; message: string };

export type RetryReason = 'redirect' | 'rate_limited' | 'service_unavailable' | 'client_error' | 'server_error' | 'unexpected_status' | Exclude<AttemptErrorClass, 'ssrf_blocked' | 'invalid_url'>;

/** `rejected`: the destination refused this message for good (an ActiveCampaign 422, with its error text). */
export type PermanentFailureReason = 'ssrf_blocked' | 'invalid_url' | 'rejected';

/** `gone`: a webhook answered 410; `unauthorized`: a destination refused Gancho's credentials (ActiveCampaign 401/403). */
export type DisableReason = 'gone' | 'unauthorized';

export type AttemptDecision =
  { outcome: 'succeeded' } | { outcome: 'retry'; reason: RetryReason; retryAfterMs?: number } | { outcome: 'failed_permanently'; reason: PermanentFailureReason } | { outcome: 'disable_endpoint'; reason: DisableReason };

/** How far a partner's `Retry-After` is trusted: at least `minMs`, at most `maxMs`. */
export interface RetryAfterBounds {
  minMs: number;
  maxMs: number;
}

export const defaultRetryAfterBounds: RetryAfterBounds = Object.freeze({ minMs: 1_000, maxMs: 3_600_000 });

export interface ClassifyOptions {
  /** For a `Retry-After` given as an HTTP date. */
  now: Date;
  retryAfterBounds?: RetryAfterBounds;
}

function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return typeof value === 'string' ? value : value?.[0];
  }
  return undefined;
}

// The three forms of an HTTP date (RFC 9110 section 5.6.7), all in GMT: IMF-fixdate, RFC 850 and asctime.
const imfFixdate = /^[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const rfc850Date = /^[A-Z][a-z]+, (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const asctimeDate = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

type DateFields = [day: string, month: string, year: string, hour: string, minute: string, second: string];

function dateFields(text: string): DateFields | undefined {
  const imf = imfFixdate.exec(text);
  if (imf) return imf.slice(1) as DateFields;
  const rfc850 = rfc850Date.exec(text);
  // A two-digit year is this century's: Retry-After dates are close to now.
  if (rfc850) return [rfc850[1], rfc850[2], `20${rfc850[3]}`, rfc850[4], rfc850[5], rfc850[6]] as DateFields;
  const asctime = asctimeDate.exec(text);
  if (asctime) return [asctime[2], asctime[1], asctime[6], asctime[3], asctime[4], asctime[5]] as DateFields;
  return undefined;
}

/**
 * Milliseconds since the epoch of an HTTP date; undefined when `text` is not
 * one. Built with Date.UTC rather than Date.parse, which reads asctime as
 * local time.
 */
export function parseHttpDate(text: string): number | undefined {
  const fields = dateFields(text);
  if (fields === undefined) return undefined;
  const [day, monthName, year, hour, minute, second] = fields;
  const month = months.indexOf(monthName);
  const [d, y, h, min, sec] = [day, year, hour, minute, second].map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(y, month, d, h, min, sec);
  const date = new Date(ms);
  // Date.UTC rolls 31 Nov over into December; such a date is not valid.
  const valid = month >= 0 && date.getUTCDate() === d && date.getUTCMonth() === month && h < 24 && min < 60 && sec < 61;
  return valid ? ms : undefined;
}

function checkBounds(bounds: RetryAfterBounds): void {
  requireInRange('retryAfterBounds.minMs', bounds.minMs, 0);
  requireInRange('retryAfterBounds.maxMs', bounds.maxMs, bounds.minMs);
}

const delaySeconds = /^\d+$/;

function untilHttpDate(text: string, now: Date): number | undefined {
  const at = parseHttpDate(text);
  return at === undefined ? undefined : at - now.getTime();
}

/**
 * How long a `Retry-After` header asks us to wait: delay-seconds or an HTTP
 * date (relative to `now`), clamped to the bounds so a partner can neither
 * make us hammer it nor park a message for days. Undefined when the header is
 * absent or unreadable (the schedule applies then).
 */
export function parseRetryAfter(value: string | undefined, now: Date, bounds: RetryAfterBounds = defaultRetryAfterBounds): number | undefined {
  checkBounds(bounds);
  if (value === undefined) return undefined;
  const text = value.trim();
  const waitMs = delaySeconds.test(text) ? Number(text) * 1_000 : untilHttpDate(text, now);
  if (waitMs === undefined) return undefined;
  return Math.min(bounds.maxMs, Math.max(bounds.minMs, waitMs));
}

/**
 * What to do after one attempt. A failure of the partner's endpoint is an
 * expected outcome of delivery, not an error of ours: it is recorded and
 * retried, and only `ssrf_blocked` and 410 end delivery early.
 *
 * - 2xx: delivered.
 * - 3xx: a failure to retry; redirects are not followed, because a redirect
 *   could lead the signed body to a host the partner never registered (and
 *   around the SSRF check). The partner must register the final URL.
 * - 410 Gone: the partner tells us the endpoint no longer exists; disable it
 *   rather than retry for days.
 * - 429 and 503: the partner is overloaded and may say when to come back;
 *   honour `Retry-After` (bounded), else follow the schedule.
 * - Other 4xx and 5xx: retry. A 4xx is usually a bug or a deploy in progress
 *   on the partner's side that is fixed within the retry window; dropping
 *   the event at once would lose it for good.
 * - Other statuses (1xx, out of range): retry as `unexpected_status`.
 * - No response (timeout, refused, DNS, TLS, reset, other): transient network
 *   trouble; retry. `body_too_large`: the response could not be read within
 *   our limit, so we cannot tell it was accepted; retry (at least once).
 *   `auth_token`: the endpoint's OAuth token endpoint gave no token; it may be
 *   down or misconfigured for a while, like an endpoint: retry.
 * - `ssrf_blocked`: the endpoint resolves to an address we never connect to;
 *   the same resolution would be blocked on every retry, so fail now.
 * - `invalid_url`: the URL itself is refused (scheme, credentials); no retry
 *   can change it, so fail now.
 */
export function classifyAttempt(result: AttemptResult, { now, retryAfterBounds = defaultRetryAfterBounds }: ClassifyOptions): AttemptDecision {
  checkBounds(retryAfterBounds);
  if (result.kind === 'error') {
    const errorClass = result.errorClass;
    switch (errorClass) {
      case 'ssrf_blocked':
      case 'invalid_url':
        return { outcome: 'failed_permanently', reason: errorClass };
      case 'timeout':
      case 'connect_refused':
      case 'dns':
      case 'tls':
      case 'reset':
      case 'body_too_large':
      case 'auth_token':
      case 'other':
        return { outcome: 'retry', reason: errorClass };
      default: {
        const _: never = errorClass;
        return { outcome: 'retry', reason: 'other' };
      }
    }
  }
  const { status } = result;
  if (status >= 200 && status <= 299) return { outcome: 'succeeded' };
  if (status >= 300 && status <= 399) return { outcome: 'retry', reason: 'redirect' };
  if (status === 410) return { outcome: 'disable_endpoint', reason: 'gone' };
  if (status === 429 || status === 503) {
    const reason = status === 429 ? 'rate_limited' : 'service_unavailable';
    const retryAfterMs = parseRetryAfter(headerValue(result.headers, 'retry-after'), now, retryAfterBounds);
    return retryAfterMs === undefined ? { outcome: 'retry', reason } : { outcome: 'retry', reason, retryAfterMs };
  }
  if (status >= 400 && status <= 499) return { outcome: 'retry', reason: 'client_error' };
  if (status >= 500 && status <= 599) return { outcome: 'retry', reason: 'server_error' };
  return { outcome: 'retry', reason: 'unexpected_status' };
}

/** Where a message stands after an attempt. */
export type DeliveryPlan =
  | { state: 'succeeded' }
  | { state: 'scheduled'; nextAttemptAt: Date; reason: RetryReason }
  | { state: 'exhausted'; reason: RetryReason }
  | { state: 'failed'; reason: PermanentFailureReason }
  | { state: 'endpoint_disabled'; reason: DisableReason };

export interface PlanNextAttemptInput {
  decision: AttemptDecision;
  /** How many attempts the message has had, this one included (from 1). */
  attemptsMade: number;
  schedule: RetrySchedule;
  /** When this attempt ended. */
  now: Date;
  random: () => number;
  jitterRatio?: number;
}

/**
 * The message's next state after an attempt. A retry is due when the partner's
 * `Retry-After` says (no jitter: the partner asked for that time), else at the
 * schedule's next delay with jitter. Either way the schedule's length caps the
 * attempts, so a partner answering 429 for ever cannot keep a message alive
 * for ever: past the last attempt the message is exhausted.
 */
export function planNextAttempt({ decision, attemptsMade, schedule, now, random, jitterRatio }: PlanNextAttemptInput): DeliveryPlan {
  const outcome = decision.outcome;
  switch (outcome) {
    case 'succeeded':
      return { state: 'succeeded' };
    case 'failed_permanently':
      return { state: 'failed', reason: decision.reason };
    case 'disable_endpoint':
      return { state: 'endpoint_disabled', reason: decision.reason };
    case 'retry': {
      const scheduled = nextAttemptAt({ attemptNumber: attemptsMade + 1, schedule, now, random, jitterRatio });
      if (scheduled === undefined) return { state: 'exhausted', reason: decision.reason };
      const at = decision.retryAfterMs === undefined ? scheduled : new Date(now.getTime() + decision.retryAfterMs);
      return { state: 'scheduled', nextAttemptAt: at, reason: decision.reason };
    }
    default: {
      const _: never = outcome;
      throw new Error(`Unknown attempt outcome ${String(_)}`);
    }
  }
}
