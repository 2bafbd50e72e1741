import { z } from 'zod';

/**
 * The live stream's own keys, read from the environment at start (with the
 * service's other configuration); every one has a default.
 */
export const streamConfigSchema = z.object({
  /** Most recent events kept per partner for resuming. */
  STREAM_BUFFER_PER_PARTNER: z.coerce.number().int().min(1).max(100_000).default(1000),
  /** How long an event stays resumable (ms): a client away longer is told about the gap. */
  STREAM_BUFFER_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(15 * 60 * 1000),
  /** SSE comment sent this often (ms) so proxies keep the connection and clients notice a dead one. */
  STREAM_HEARTBEAT_MS: z.coerce.number().int().min(100).default(15_000),
  /** Prefix of this instance's own consumer group (every instance reads every event). */
  STREAM_CONSUMER_GROUP_PREFIX: z.string().min(1).default('gancho-delivery.stream'),
});
export type StreamConfig = z.infer<typeof streamConfigSchema>;
export const STREAM_CONFIG = Symbol('STREAM_CONFIG');
