import { TokenBucket, type TakeResult, type TokenBucketOptions } from '@gancho/delivery-domain';

export interface TokenBucketLimiterOptions extends TokenBucketOptions {
  /** Buckets kept at most; the least recently used are dropped first (and start full when next seen). */
  maxBuckets?: number;
}

/** One token bucket per key (an API key id), in memory: a per-process limit, not a global one. */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly maxBuckets: number;

  constructor(private readonly options: TokenBucketLimiterOptions) {
    // Refuses nonsense options now rather than at the first request.
    new TokenBucket(options);
    this.maxBuckets = options.maxBuckets ?? 100_000;
  }

  take(key: string, now: Date = new Date()): TakeResult {
    const bucket = this.buckets.get(key) ?? new TokenBucket(this.options);
    // Re-inserting keeps the map in least-recently-used order.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    for (const stale of this.buckets.keys()) {
      if (this.buckets.size <= this.maxBuckets) break;
      this.buckets.delete(stale);
    }
    return bucket.tryTake(now);
  }
}
