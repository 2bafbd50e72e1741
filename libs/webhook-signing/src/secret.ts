import { InvalidSigningSecretError } from './errors';

export const signingSecretPrefix = 'whsec_';
/** Bytes of key material in a secret we generate (HMAC-SHA256's block-size half; Svix uses the same). */
export const generatedSecretBytes = 32;
export const minSecretBytes = 24;
export const maxSecretBytes = 64;

/** Fills a buffer with `n` cryptographically random bytes, e.g. `node:crypto`'s `randomBytes`. */
export type RandomBytes = (n: number) => Buffer;

// Canonical, padded base64 (RFC 4648 section 4): what Buffer#toString('base64') writes.
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A new signing secret: `whsec_` and the base64 of 32 random bytes. */
export function generateSecret(randomBytes: RandomBytes): string {
  const key = randomBytes(generatedSecretBytes);
  if (key.length !== generatedSecretBytes) {
    throw new InvalidSigningSecretError(`the random source gave ${key.length} bytes, ${generatedSecretBytes} were asked for`);
  }
  return `${signingSecretPrefix}${key.toString('base64')}`;
}

/**
 * The HMAC key of a secret: `whsec_` followed by canonical base64 of 24 to 64
 * bytes. Throws `INVALID_SIGNING_SECRET` otherwise; the message never repeats
 * the secret.
 */
export function parseSecret(secret: string): Buffer {
  if (typeof secret !== 'string' || !secret.startsWith(signingSecretPrefix)) {
    throw new InvalidSigningSecretError(`must start with ${signingSecretPrefix}`);
  }
  const encoded = secret.slice(signingSecretPrefix.length);
  // Buffer.from(…, 'base64') skips characters it does not know, so check the text first.
  if (encoded.length === 0 || !base64Pattern.test(encoded)) {
    throw new InvalidSigningSecretError(`must be ${signingSecretPrefix} followed by base64`);
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < minSecretBytes || key.length > maxSecretBytes) {
    throw new InvalidSigningSecretError(`must hold ${minSecretBytes} to ${maxSecretBytes} bytes, holds ${key.length}`);
  }
  return key;
}

export function isValidSecret(secret: string): boolean {
  try {
    parseSecret(secret);
    return true;
  } catch {
    return false;
  }
}
