import type { TokenBucketOptions } from './token-bucket';

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
  rateLimit?: TokenBucketOptions | false;
  /**
   * Until the table has caught up with the topic, an unknown key gets 503 and
   * Retry-After rather than 401. It has caught up once `quietMs` passed with no
   * record after the first one, or `maxMs` after subscribing (an empty topic).
   */
  warmup?: { quietMs?: number; maxMs?: number };
}
