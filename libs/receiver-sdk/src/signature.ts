import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidSecretError, WebhookVerificationError } from './errors.js';

export const secretPrefix = 'whsec_';
/** Standard Webhooks' default: a message more than five minutes from now, either way, is refused. */
export const defaultToleranceSeconds = 300;

/** Request headers as Node, Express, Fastify or fetch's `Headers` give them. */
export type HeadersLike = Readonly<Record<string, string | readonly string[] | undefined>> | { get(name: string): string | null };

export type RawBody = string | Uint8Array;

// A type, not an interface, so it is assignable to a plain header record (fetch, http.request).
export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

const base64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The HMAC key of a secret: `whsec_` followed by base64, or the base64 alone
 * (as `standardwebhooks` and `svix` accept). Throws `InvalidSecretError`.
 */
export function secretKey(secret: string): Buffer {
  if (typeof secret !== 'string') throw new InvalidSecretError('must be a string');
  const encoded = secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret;
  if (!base64.test(encoded)) throw new InvalidSecretError(`must be ${secretPrefix} followed by base64`);
  const key = Buffer.from(encoded, 'base64');
  // Short keys are guessable; ours are 32 bytes.
  if (key.length < 16) throw new InvalidSecretError(`must hold at least 16 bytes, holds ${key.length}`);
  return key;
}

function toBuffer(body: RawBody): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`, as Standard Webhooks defines it. */
export function computeSignature(key: Buffer, id: string, timestampSeconds: number, body: RawBody): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(toBuffer(body)).digest();
}

export interface SignInput {
  id: string;
  /** Unix seconds, or a Date. */
  timestamp: number | Date;
  body: RawBody;
  /** One secret, or several (a rotation): one `v1` signature each. */
  secret: string | readonly string[];
}

/** Standard Webhooks headers for a body: for tests, local tools, and forwarding. */
export function signWebhook({ id, timestamp, body, secret }: SignInput): SignedHeaders {
  if (!/^[\x21-\x7e]+$/.test(id)) throw new RangeError('webhook id must be printable ASCII without spaces');
  const seconds = typeof timestamp === 'number' ? Math.floor(timestamp) : Math.floor(timestamp.getTime() / 1000);
  if (!Number.isFinite(seconds)) throw new RangeError('webhook timestamp is not a valid time');
  const secrets = [...new Set(typeof secret === 'string' ? [secret] : secret)];
  if (secrets.length === 0) throw new InvalidSecretError('at least one secret is needed');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': secrets.map((s) => `v1,${computeSignature(secretKey(s), id, seconds, body).toString('base64')}`).join(' '),
  };
}

/** A header's value, whatever the case of its name; repeated headers are joined with a space. */
export function headerValue(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value = (headers as { get(name: string): string | null }).get(name);
    return value === null || value.trim() === '' ? undefined : value.trim();
  }
  for (const [key, value] of Object.entries(headers as Record<string, string | readonly string[] | undefined>)) {
    if (key.toLowerCase() !== name) continue;
    const text = typeof value === 'string' ? value : value?.join(' ');
    if (text !== undefined && text.trim() !== '') return text.trim();
  }
  return undefined;
}

export interface VerifyInput {
  headers: HeadersLike;
  /** The body exactly as received: never re-serialised JSON. */
  body: RawBody;
  /** Every secret you accept: the current one, and the previous one during a rotation. */
  secret: string | readonly string[];
  toleranceSeconds?: number;
  /** Injected for tests; the real clock otherwise. */
  now?: () => Date;
}

export interface VerifiedSignature {
  id: string;
  timestamp: Date;
}

/**
 * Checks the Standard Webhooks signature of a request: the three headers
 * (`webhook-*`, or `svix-*` as Svix sends them), a timestamp within the
 * tolerance of now (both ways, against replays), and at least one `v1`
 * signature in the space-separated list that matches one of the secrets,
 * compared in constant time. Throws `WebhookVerificationError`.
 */
export function verifySignature({ headers, body, secret, toleranceSeconds = defaultToleranceSeconds, now = () => new Date() }: VerifyInput): VerifiedSignature {
  if (!(toleranceSeconds >= 0)) throw new RangeError('toleranceSeconds must be ≥ 0');
  const keys = (typeof secret === 'string' ? [secret] : secret).map(secretKey);
  if (keys.length === 0) throw new InvalidSecretError('at least one secret is needed');

  const read = (name: string) => headerValue(headers, `webhook-${name}`) ?? headerValue(headers, `svix-${name}`);
  const id = read('id');
  const timestampText = read('timestamp');
  const signatures = read('signature');
  const missing = [
    id === undefined ? 'webhook-id' : undefined,
    timestampText === undefined || !/^\d{1,15}$/.test(timestampText) ? 'webhook-timestamp' : undefined,
    signatures === undefined ? 'webhook-signature' : undefined,
  ].filter((name) => name !== undefined);
  if (id === undefined || timestampText === undefined || signatures === undefined || missing.length > 0) {
    throw new WebhookVerificationError('WEBHOOK_HEADERS_MISSING', `Missing or malformed headers: ${missing.join(', ')}`);
  }

  const seconds = Number(timestampText);
  const nowSeconds = Math.floor(now().getTime() / 1000);
  if (Math.abs(nowSeconds - seconds) > toleranceSeconds) {
    const direction = seconds < nowSeconds ? 'too old' : 'too new';
    throw new WebhookVerificationError('WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE', `The webhook timestamp is ${direction} (tolerance ${toleranceSeconds} s)`);
  }

  const expected = keys.map((key) => computeSignature(key, id, seconds, body));
  let matched = false;
  for (const entry of signatures.split(' ')) {
    const [version, signature] = entry.split(',');
    if (version !== 'v1' || !signature) continue;
    const offered = Buffer.from(signature, 'base64');
    // Every candidate is compared (no early exit), each in constant time; a length says nothing about a key.
    for (const candidate of expected) {
      if (offered.length === candidate.length && timingSafeEqual(offered, candidate)) matched = true;
    }
  }
  if (!matched) throw new WebhookVerificationError('WEBHOOK_SIGNATURE_MISMATCH', 'No webhook signature matches');
  return { id, timestamp: new Date(seconds * 1000) };
}
