import { TokenBucketLimiter } from './token-bucket';

describe('TokenBucketLimiter', () => {
  it('allows a burst, then refills at the rate, per key', () => {
    const limiter = new TokenBucketLimiter({ ratePerSecond: 2, burst: 3 });
    const t0 = 1_000_000;
    expect([1, 2, 3].map(() => limiter.take('k', t0).allowed)).toEqual([true, true, true]);
    expect(limiter.take('k', t0)).toEqual({ allowed: false, retryAfterMs: 500 });
    expect(limiter.take('other', t0).allowed).toBe(true);
    expect(limiter.take('k', t0 + 500).allowed).toBe(true);
    expect(limiter.take('k', t0 + 500).allowed).toBe(false);
    expect(limiter.take('k', t0 + 60_000)).toEqual({ allowed: true, remaining: 2 });
  });

  it('keeps a bounded number of buckets', () => {
    const limiter = new TokenBucketLimiter({ ratePerSecond: 1, burst: 1, maxBuckets: 2 });
    limiter.take('a', 0);
    limiter.take('b', 0);
    limiter.take('c', 0);
    // 'a' was evicted, so it starts full again.
    expect(limiter.take('a', 0).allowed).toBe(true);
    expect(limiter.take('c', 0).allowed).toBe(false);
  });

  it('refuses nonsense options', () => {
    expect(() => new TokenBucketLimiter({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
  });
});
