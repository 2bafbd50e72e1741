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
