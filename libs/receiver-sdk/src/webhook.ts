import { WebhookVerificationError } from './errors.js';
import { eventTypes, type EventType, type WebhookEvent } from './generated/event-types.js';
import { defaultToleranceSeconds, verifySignature, type HeadersLike, type RawBody } from './signature.js';

export interface WebhookOptions {
  /** Your endpoint's signing secret (`whsec_…`), or every secret you accept during a rotation. */
  secret: string | readonly string[];
  /** How far `webhook-timestamp` may be from now, in seconds, either way. Default 300. */
  toleranceSeconds?: number;
  /** Injected for tests; the real clock otherwise. */
  now?: () => Date;
}

/** A webhook whose signature checked out. */
export interface VerifiedWebhook<E = WebhookEvent> {
  /** `webhook-id`: the same on every redelivery of one message, so de-duplicate on it. */
  id: string;
  /** `webhook-timestamp`: when this attempt was signed. */
  timestamp: Date;
  /** The parsed body. Switch on `event.type` to narrow `event.data`. */
  event: E;
}

const knownTypes: ReadonlySet<string> = new Set(eventTypes);

/** Whether `type` is one of the event types this version of the library knows. */
export function isKnownEventType(type: string): type is EventType {
  return knownTypes.has(type);
}

function parseEvent(body: RawBody): WebhookEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    throw new WebhookVerificationError('WEBHOOK_BODY_INVALID', 'The body is not JSON');
  }
  const record = parsed as Record<string, unknown> | null;
  if (typeof record !== 'object' || record === null || typeof record['type'] !== 'string' || typeof record['timestamp'] !== 'string' || typeof record['data'] !== 'object' || record['data'] === null) {
    throw new WebhookVerificationError('WEBHOOK_BODY_INVALID', 'The body is not a webhook event ({type, timestamp, data})');
  }
  // A type newer than this library is still handed on (typed as the union); check with isKnownEventType.
  return parsed as WebhookEvent;
}

/**
 * Verifies a request and parses its body: `verifyWebhook(rawBody, headers, { secret })`.
 * Throws `WebhookVerificationError` (code `WEBHOOK_HEADERS_MISSING`,
 * `WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE`, `WEBHOOK_SIGNATURE_MISMATCH` or
 * `WEBHOOK_BODY_INVALID`); the body is parsed only after the signature matched.
 */
export function verifyWebhook(body: RawBody, headers: HeadersLike, options: WebhookOptions): VerifiedWebhook {
  const { id, timestamp } = verifySignature({
    headers,
    body,
    secret: options.secret,
    toleranceSeconds: options.toleranceSeconds ?? defaultToleranceSeconds,
    ...(options.now ? { now: options.now } : {}),
  });
  return { id, timestamp, event: parseEvent(body) };
}

/** The same as `verifyWebhook`, with the options given once. */
export class Webhooks {
  constructor(private readonly options: WebhookOptions) {}

  verify(body: RawBody, headers: HeadersLike): VerifiedWebhook {
    return verifyWebhook(body, headers, this.options);
  }
}
