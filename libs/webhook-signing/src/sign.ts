import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { InvalidSigningSecretError, InvalidWebhookIdError } from './errors';
import { parseSecret } from './secret';

export const webhookIdHeader = 'webhook-id';
export const webhookTimestampHeader = 'webhook-timestamp';
export const webhookSignatureHeader = 'webhook-signature';
export const signatureVersion = 'v1';

// A type, not an interface, so it is assignable to a plain header record.
export type WebhookHeaders = {
  'webhook-id': string;
  /** Unix time in whole seconds. */
  'webhook-timestamp': string;
  /** `v1,<base64>` per secret, space-separated. */
  'webhook-signature': string;
};

export interface SignWebhookInput {
  /** The message id; the same on every redelivery so receivers can de-duplicate. */
  id: string;
  timestamp: Date;
  /** The exact bytes that will be sent, as a string. */
  body: string;
  /** The endpoint's current secrets: one, or two during a rotation. */
  secrets: readonly string[];
}

// Header values must not carry whitespace or control characters (header injection, and the signature list is space-separated).
const headerSafeId = /^[\x21-\x7e]+$/;

export function unixSeconds(time: Date): number {
  return Math.floor(time.getTime() / 1000);
}

/** HMAC-SHA256 of `{id}.{timestamp}.{body}` with the key, as Standard Webhooks defines it. */
export function computeSignature(key: Buffer | KeyObject, id: string, timestampSeconds: number, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest();
}

// Node 24's createHmac costs about 9 µs more with a Buffer key than with a
// KeyObject (it probes the key's type by catching an error, twice), so keys
// are made once per secret. Bounded: a process signs for a known set of
// endpoints; the oldest entries go first when it is full.
const keyObjects = new Map<string, KeyObject>();
const maxCachedKeys = 50_000;

/** The secret's HMAC key as a KeyObject, made once per secret. */
export function signingKeyOf(secret: string): KeyObject {
  let key = keyObjects.get(secret);
  if (!key) {
    key = createSecretKey(parseSecret(secret));
    if (keyObjects.size >= maxCachedKeys) keyObjects.delete(keyObjects.keys().next().value as string);
    keyObjects.set(secret, key);
  }
  return key;
}

/**
 * The Standard Webhooks headers for a message: one `v1` signature for each
 * distinct secret, so during a rotation receivers holding either the old or
 * the new secret can verify.
 */
export function signWebhook({ id, timestamp, body, secrets }: SignWebhookInput): WebhookHeaders {
  if (typeof id !== 'string' || !headerSafeId.test(id)) {
    throw new InvalidWebhookIdError('must be non-empty printable ASCII without spaces');
  }
  if (Number.isNaN(timestamp.getTime())) throw new RangeError('Webhook timestamp is not a valid date');
  if (secrets.length === 0) throw new InvalidSigningSecretError('at least one secret is needed to sign');
  const seconds = unixSeconds(timestamp);
  const signatures = [...new Set(secrets)].map((secret) => `${signatureVersion},${computeSignature(signingKeyOf(secret), id, seconds, body).toString('base64')}`);
  return {
    [webhookIdHeader]: id,
    [webhookTimestampHeader]: String(seconds),
    [webhookSignatureHeader]: signatures.join(' '),
  };
}
