import { InvalidDeliverySettingError } from './errors';
import { seededRandom } from './testing/seeded-random';
import { TokenBucket } from './token-bucket';

// Scenarios:
// - A new bucket lets a burst of `capacity` through, then refuses with the wait until the next token.
// - Waiting exactly that long gets the token; a millisecond less does not.
// - Idle time never fills it past capacity; a clock that steps back adds nothing.
// - Property: over any run of requests, what goes through never exceeds capacity + rate × elapsed time.

const start = Date.parse('2026-11-27T19:28:47.000Z');
const at = (ms: number) => new Date(start + ms);

describe('TokenBucket', () => {
  it('given a new bucket, when a burst arrives, then capacity requests go and the next waits for one refill', () => {
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 2 });
    expect([1, 2, 3].map(() => bucket.tryTake(at(0)))).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(bucket.tryTake(at(0))).toEqual({ ok: false, retryInMs: 500 });
  });

  it('gives the token to a caller that waits exactly retryInMs, not one that comes a millisecond early', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 3 });
    expect(bucket.tryTake(at(0))).toEqual({ ok: true });
    const refused = bucket.tryTake(at(0));
    expect(refused).toEqual({ ok: false, retryInMs: 334 });
    expect(bucket.tryTake(at(333))).toEqual({ ok: false, retryInMs: 1 });
    expect(bucket.tryTake(at(334))).toEqual({ ok: true });
  });

  it('counts a partial refill towards the wait', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
    bucket.tryTake(at(0));
    expect(bucket.tryTake(at(400))).toEqual({ ok: false, retryInMs: 600 });
  });

  it('never fills past capacity, however long it sits idle', () => {
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 10 });
    bucket.tryTake(at(0));
    expect(bucket.available(at(3_600_000))).toBe(2);
    expect([1, 2, 3].map(() => bucket.tryTake(at(3_600_000)).ok)).toEqual([true, true, false]);
  });

  it('adds nothing when the clock steps back, and does not count the same time twice', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
    bucket.tryTake(at(10_000));
    expect(bucket.tryTake(at(5_000)).ok).toBe(false);
    expect(bucket.tryTake(at(10_500))).toEqual({ ok: false, retryInMs: 500 });
    expect(bucket.tryTake(at(11_000)).ok).toBe(true);
  });

  it('supports rates below one per second', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 0.1 });
    bucket.tryTake(at(0));
    expect(bucket.tryTake(at(0))).toEqual({ ok: false, retryInMs: 10_000 });
    expect(bucket.tryTake(at(10_000)).ok).toBe(true);
  });

  it('given random rates and arrivals, then what goes through never exceeds capacity + rate × elapsed, and retryInMs is honest', () => {
    const random = seededRandom(42);
    for (let run = 0; run < 200; run += 1) {
      const capacity = 1 + Math.floor(random() * 20);
      const refillPerSecond = 0.5 + random() * 50;
      const bucket = new TokenBucket({ capacity, refillPerSecond });
      let clock = 0;
      let taken = 0;
      const dishonest: string[] = [];
      for (let request = 0; request < 300; request += 1) {
        clock += Math.floor(random() * 200);
        const result = bucket.tryTake(at(clock));
        if (result.ok) {
          taken += 1;
          continue;
        }
        // Waiting what we were told must be enough (a probe on a copy leaves the run itself untouched).
        const copy = Object.assign(Object.create(TokenBucket.prototype) as TokenBucket, bucket);
        if (!copy.tryTake(at(clock + result.retryInMs)).ok) dishonest.push(`run ${run} request ${request}`);
      }
      expect(dishonest).toEqual([]);
      expect(taken).toBeLessThanOrEqual(capacity + (refillPerSecond * clock) / 1000 + 1e-6);
    }
  });

  // Polling every millisecond adds the refill in small fractions whose rounding must not cost a token.
  it.each([10, 12.5, 100])('under constant pressure at %s per second, lets through the burst plus the rate, not less', (refillPerSecond) => {
    const bucket = new TokenBucket({ capacity: 5, refillPerSecond });
    let taken = 0;
    for (let ms = 0; ms <= 10_000; ms += 1) if (bucket.tryTake(at(ms)).ok) taken += 1;
    expect(taken).toBe(5 + 10 * refillPerSecond);
  });

  it.each([
    [{ capacity: 0, refillPerSecond: 1 }],
    [{ capacity: 5, refillPerSecond: 0 }],
    [{ capacity: 5, refillPerSecond: -1 }],
    [{ capacity: Number.NaN, refillPerSecond: 1 }],
    [{ capacity: 5, refillPerSecond: Number.POSITIVE_INFINITY }],
  ])('refuses %j with INVALID_DELIVERY_SETTING', (options) => {
    expect(() => new TokenBucket(options)).toThrow(InvalidDeliverySettingError);
  });
});
