import { durationMs, tokenList, type ServiceConfig } from '@gancho/service-kit';
import { z } from 'zod';
import { Topics } from '@gancho/contracts';

const day = 24 * 60 * 60 * 1000;

/** The journey service's own configuration keys (the common ones come from service-kit). */
export const journeyConfigSchema = z.object({
  /** Bearer tokens of the checkout platform that drives the journey (comma-separated; two during a rotation). */
  JOURNEY_PLATFORM_TOKENS: tokenList('JOURNEY_PLATFORM_TOKENS'),
  /** An open purchase with no activity for this long has its link marked inactive. */
  CART_INACTIVE_AFTER_MS: durationMs(3 * day),
  /** A purchase whose link has been inactive this long expires. */
  EXPIRE_AFTER_INACTIVE_MS: durationMs(30 * day),
  TIMEOUT_SCAN_INTERVAL_MS: durationMs(60_000),
  /** Publish stored events to the status topic from this process (turn off to run the relay elsewhere). */
  OUTBOX_RELAY_ENABLED: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  PURCHASE_STATUS_PARTITIONS: z.coerce.number().int().min(1).max(256).default(6),
  /** Tests give each run its own topic; deployments keep the contract's name. */
  PURCHASE_STATUS_TOPIC: z.string().min(1).default(Topics.purchaseStatus),
});

export type JourneyConfig = ServiceConfig & z.infer<typeof journeyConfigSchema>;
