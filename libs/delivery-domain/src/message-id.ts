import { createHash } from 'node:crypto';

export const messageIdPrefix = 'msg_';
const messageIdLength = 26;
// Crockford's base32, lower case: no i, l, o, u to misread.
const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(bytes: Buffer): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  return bits > 0 ? out + alphabet[(buffer << (5 - bits)) & 31] : out;
}

/**
 * The message id (and `webhook-id`) of one event for one endpoint: `msg_` and
 * 26 base32 characters (130 bits) of SHA-256 over both ids. The same inputs
 * always give the same id, so a status event consumed twice maps to the
 * message already recorded, and every redelivery carries the same id.
 */
export function messageIdFor(eventId: string, endpointId: string): string {
  if (eventId === '' || endpointId === '') throw new RangeError('messageIdFor needs a non-empty event id and endpoint id');
  // Length-prefixed, so ("ab", "c") and ("a", "bc") cannot collide.
  const digest = createHash('sha256').update(`${eventId.length}:${eventId}|${endpointId.length}:${endpointId}`).digest();
  return messageIdPrefix + base32(digest).slice(0, messageIdLength);
}

/**
 * The event id (a UUID, as status events' are) of the `purchase.personal_data_erased`
 * notice of one purchase in one erasure: the same on every redelivery of the
 * erasure record, so its messages are stored once and keep their webhook-id.
 */
export function erasureNoticeEventId(erasureId: string, purchaseId: string): string {
  if (erasureId === '' || purchaseId === '') throw new RangeError('erasureNoticeEventId needs a non-empty erasure id and purchase id');
  const hex = createHash('sha256').update(`erasure-notice|${erasureId.length}:${erasureId}|${purchaseId.length}:${purchaseId}`).digest('hex');
  // RFC 9562 version 8 (custom), variant 10.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}
