import { createHash } from 'node:crypto';
import { messageIdFor } from './message-id';

// Scenarios:
// - The id is msg_ + 26 Crockford base32 characters of SHA-256 over both ids.
// - The same event and endpoint always give the same id (a record consumed twice, every redelivery, every deploy).
// - Different pairs give different ids, including pairs whose concatenation is the same.

const eventId = 'evt_01JDZ8Q6Y3M4T5V6W7X8Y9Z0AB';
const endpointId = 'ep_01JDZ7K2M3N4P5Q6R7S8T9V0WX';
const crockford = '0123456789abcdefghjkmnpqrstvwxyz';

/** The first 130 bits of the digest in base32, computed another way (BigInt), to check the encoder. */
function expectedIdFor(event: string, endpoint: string): string {
  const hex = createHash('sha256').update(`${event.length}:${event}|${endpoint.length}:${endpoint}`).digest('hex');
  const first130Bits = BigInt(`0x${hex}`) >> 126n;
  const digits = first130Bits.toString(32).padStart(26, '0');
  return `msg_${[...digits].map((digit) => crockford[parseInt(digit, 32)]).join('')}`;
}

describe('messageIdFor', () => {
  it('is msg_ and 26 lower-case Crockford base32 characters', () => {
    expect(messageIdFor(eventId, endpointId)).toMatch(/^msg_[0-9a-hjkmnp-tv-z]{26}$/);
  });

  it('is the first 130 bits of SHA-256 over both ids, length-prefixed', () => {
    expect(messageIdFor(eventId, endpointId)).toBe(expectedIdFor(eventId, endpointId));
  });

  it('never changes for a given pair (pinned: a change would resend every message under a new id)', () => {
    expect(messageIdFor(eventId, endpointId)).toBe('msg_c41573hq7cfzs8wj5s4t7nkgty');
  });

  it('given the same event and endpoint twice, then the same id', () => {
    expect(messageIdFor(`${eventId}`, `${endpointId}`)).toBe(messageIdFor(eventId, endpointId));
  });

  it.each([
    ['another event', 'evt_2', endpointId],
    ['another endpoint', eventId, 'ep_2'],
    ['the ids swapped', endpointId, eventId],
  ])('gives a different id for %s', (_case, event, endpoint) => {
    expect(messageIdFor(event, endpoint)).not.toBe(messageIdFor(eventId, endpointId));
  });

  it('keeps pairs apart whose concatenation is the same', () => {
    expect(messageIdFor('ab', 'c')).not.toBe(messageIdFor('a', 'bc'));
    expect(messageIdFor('a|1:b', 'c')).not.toBe(messageIdFor('a', 'b|1:c'));
  });

  it('gives 10 000 distinct ids for 100 events × 100 endpoints, each matching the reference encoding', () => {
    const ids = new Set<string>();
    const mismatches: string[] = [];
    for (let event = 0; event < 100; event += 1) {
      for (let endpoint = 0; endpoint < 100; endpoint += 1) {
        const id = messageIdFor(`evt_${event}`, `ep_${endpoint}`);
        ids.add(id);
        if (event % 10 === 0 && id !== expectedIdFor(`evt_${event}`, `ep_${endpoint}`)) mismatches.push(id);
      }
    }
    expect(ids.size).toBe(10_000);
    expect(mismatches).toEqual([]);
  });

  it.each([
    ['', endpointId],
    [eventId, ''],
  ])('refuses an empty id (%j, %j)', (event, endpoint) => {
    expect(() => messageIdFor(event, endpoint)).toThrow(RangeError);
  });
});
