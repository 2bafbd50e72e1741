import type { TokenBucketLimiterOptions } from './token-bucket-limiter';

export const PARTNER_AUTH_OPTIONS = Symbol('PARTNER_AUTH_OPTIONS');

/**
 * The app's one TokenBucketLimiter (or null without a limit). Nest makes a
 * guard instance per module that uses it, so the buckets live in this
 * provider: every partner route of the process draws from the same bucket per key.
 */
export const PARTNER_RATE_LIMITER = Symbol('PARTNER_RATE_LIMITER');

export interface PartnerAuthOptions {
  /** The compacted topic of API key records; `Topics.apiKeys` unless a test gives its own. */
  topic?: string;
  /** Start of this instance's consumer group name; a unique suffix is added per process. */
  consumerGroupPrefix?: string;
  /** Requests per API key in this process; false for no limit. */
  rateLimit?: TokenBucketLimiterOptions | false;
  /**
   * Read-your-writes: a well-formed key the table does not know waits until
   * the table has applied the topic up to its end as of the request (at most
   * `maxWaitMs`, default 2000), and is decided then; past that, 503 with
   * Retry-After, never 401 for a key that may exist.
   */
  keyCatchUp?: { maxWaitMs?: number };
  /** How many keys found unknown (with the table caught up) are remembered, to answer them at once; default 10,000. */
  unknownKeyCacheSize?: number;
}
