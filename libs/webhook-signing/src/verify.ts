import { timingSafeEqual } from 'node:crypto';
import { InvalidSigningSecretError, WebhookHeadersMissingError, WebhookSignatureMismatchError, WebhookTimestampOutOfToleranceError } from './errors';
import { computeSignature, signingKeyOf, signatureVersion, webhookIdHeader, webhookSignatureHeader, webhookTimestampHeader } from './sign';

/** Request headers as HTTP servers give them (names in any case; Node gives arrays for repeated headers). */
export type IncomingHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export const defaultToleranceSeconds = 300;

export interface VerifyWebhookInput {
  headers: IncomingHeaders;
  /** The raw body as received, before any JSON parsing. */
  body: string | Buffer;
  /** Every secret the receiver accepts (old and new during a rotation). */
  secrets: readonly string[];
  now: Date;
  /** How far the timestamp may be from `now`, either way. */
  toleranceSeconds?: number;
}

export interface VerifiedWebhook {
  id: string;
  timestamp: Date;
}

function header(headers: IncomingHeaders, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    const text = typeof value === 'string' ? value : value?.join(' ');
    return text === undefined || text.trim() === '' ? undefined : text.trim();
  }
  return undefined;
}

/**
 * Checks a webhook as a receiver would: the three headers are there, the
 * timestamp is within `toleranceSeconds` of `now` (both ways, against replay
 * and clock games), and at least one `v1` signature matches one of the
 * secrets, compared in constant time. Returns the id and timestamp; throws
 * `WEBHOOK_HEADERS_MISSING`, `WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE` or
 * `WEBHOOK_SIGNATURE_MISMATCH`.
 */
export function verifyWebhook({ headers, body, secrets, now, toleranceSeconds = defaultToleranceSeconds }: VerifyWebhookInput): VerifiedWebhook {
  if (!(toleranceSeconds >= 0)) throw new RangeError('toleranceSeconds must be ≥ 0');
  if (secrets.length === 0) throw new InvalidSigningSecretError('at least one secret is needed to verify');
  const keys = secrets.map(signingKeyOf);

  const id = header(headers, webhookIdHeader);
  const timestampText = header(headers, webhookTimestampHeader);
  const signatureList = header(headers, webhookSignatureHeader);
  const missing = [
    id === undefined ? webhookIdHeader : undefined,
    timestampText === undefined || !/^\d{1,15}$/.test(timestampText) ? webhookTimestampHeader : undefined,
    signatureList === undefined ? webhookSignatureHeader : undefined,
  ].filter((name): name is string => name !== undefined);
  if (id === undefined || timestampText === undefined || signatureList === undefined || missing.length > 0) {
    throw new WebhookHeadersMissingError(missing);
  }

  const seconds = Number(timestampText);
  const timestamp = new Date(seconds * 1000);
  if (Math.abs(Math.floor(now.getTime() / 1000) - seconds) > toleranceSeconds) {
    throw new WebhookTimestampOutOfToleranceError(timestamp, now, toleranceSeconds);
  }

  const expected = keys.map((key) => computeSignature(key, id, seconds, body));
  const offered = signatureList
    .split(' ')
    .map((entry) => entry.split(','))
    .filter(([version, signature]) => version === signatureVersion && signature !== undefined)
    .map(([, signature]) => Buffer.from(signature ?? '', 'base64'));
  // timingSafeEqual needs equal lengths; a length says nothing about the key.
  const matches = offered.some((candidate) => expected.some((signature) => candidate.length === signature.length && timingSafeEqual(candidate, signature)));
  if (!matches) throw new WebhookSignatureMismatchError();
  return { id, timestamp };
}
