// Standard Webhooks signing and verifying with a KeyObject per secret, made
// once — the workaround for Node 24's slow createHmac with Buffer keys (see
// hmac-keys.mts). Used by the ceiling's client and the receivers only when
// BENCH_HMAC_KEYOBJECT=1, to measure what the workaround is worth; otherwise
// they use @gancho/webhook-signing, as a partner would.
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export const useKeyObjects = process.env.BENCH_HMAC_KEYOBJECT === '1';

const keys = new Map<string, KeyObject>();

function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = createSecretKey(Buffer.from(secret.slice('whsec_'.length), 'base64'))));
  return key;
}

function signature(secret: string, id: string, seconds: string, body: string): Buffer {
  return createHmac('sha256', keyOf(secret)).update(`${id}.${seconds}.`).update(body).digest();
}

export function signWithKeyObject(id: string, timestamp: Date, body: string, secret: string): Record<string, string> {
  const seconds = String(Math.floor(timestamp.getTime() / 1000));
  return { 'webhook-id': id, 'webhook-timestamp': seconds, 'webhook-signature': `v1,${signature(secret, id, seconds, body).toString('base64')}` };
}

/** The webhook id when a v1 signature matches one of the secrets and the timestamp is within 5 minutes; throws otherwise. */
export function verifyWithKeyObject(headers: Record<string, string | string[] | undefined>, body: string, secrets: string[], now: number): string {
  const id = headers['webhook-id'];
  const seconds = headers['webhook-timestamp'];
  const offered = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof seconds !== 'string' || typeof offered !== 'string') throw new Error('webhook headers missing');
  if (Math.abs(Math.floor(now / 1000) - Number(seconds)) > 300) throw new Error('timestamp out of tolerance');
  const candidates = offered.split(' ').map((entry) => Buffer.from(entry.slice(entry.indexOf(',') + 1), 'base64'));
  for (const secret of secrets) {
    const expected = signature(secret, id, seconds, body);
    if (candidates.some((c) => c.length === expected.length && timingSafeEqual(c, expected))) return id;
  }
  throw new Error('signature mismatch');
}
