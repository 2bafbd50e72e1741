import { InvalidDeliverySettingError } from '@gancho/delivery-domain';
import { TokenBucketLimiter } from './token-bucket-limiter';

const at = (ms: number) => new Date(1_000_000 + ms);

describe('TokenBucketLimiter', () => {
  it('allows a burst, then refills at the rate, per key', () => {
    const limiter = new TokenBucketLimiter({ refillPerSecond: 2, capacity: 3 });
    expect([1, 2, 3].map(() => limiter.take('k', at(0)).ok)).toEqual([true, true, true]);
    expect(limiter.take('k', at(0))).toEqual({ ok: false, retryInMs: 500 });
    expect(limiter.take('other', at(0)).ok).toBe(true);
    expect(limiter.take('k', at(500)).ok).toBe(true);
    expect(limiter.take('k', at(500)).ok).toBe(false);
    expect([1, 2, 3, 4].map(() => limiter.take('k', at(60_000)).ok)).toEqual([true, true, true, false]);
  });

  it('keeps a bounded number of buckets', () => {
    const limiter = new TokenBucketLimiter({ refillPerSecond: 1, capacity: 1, maxBuckets: 2 });
    limiter.take('a', at(0));
    limiter.take('b', at(0));
    limiter.take('c', at(0));
    // 'a' was evicted, so it starts full again.
    expect(limiter.take('a', at(0)).ok).toBe(true);
    expect(limiter.take('c', at(0)).ok).toBe(false);
  });

  it('refuses nonsense options', () => {
    expect(() => new TokenBucketLimiter({ refillPerSecond: 0, capacity: 1 })).toThrow(InvalidDeliverySettingError);
  });
});
