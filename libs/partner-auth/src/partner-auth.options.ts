import type { TokenBucketOptions } from './token-bucket';

export const PARTNER_AUTH_OPTIONS = Symbol('PARTNER_AUTH_OPTIONS');

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
