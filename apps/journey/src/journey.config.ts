import { durationMs, flag, retentionPeriodMs, tokenList, type ServiceConfig } from '@gancho/service-kit';
import { z } from 'zod';
import { Topics } from '@gancho/contracts';
import { parseSecretBoxKeys } from '@gancho/secret-box';

const day = 24 * 60 * 60 * 1000;

/** A @gancho/secret-box key list (`<keyId>:<base64 of 32 bytes>`, comma-separated; the first seals, every one opens). */
const secretBoxKeys = (name: string) =>
  z.string({ error: `${name} is required (<keyId>:<base64 of 32 bytes>[,…])` }).superRefine((value, context) => {
    try {
      parseSecretBoxKeys(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: error instanceof Error ? error.message : 'invalid' });
    }
  });

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
  /**
   * Also publish journey.purchase-status.v1 (the student in clear), for a
   * delivery older than the LGPD release during an upgrade: upgrade delivery
   * first, then turn this off.
   */
  PUBLISH_STATUS_V1: flag(false),
  PURCHASE_STATUS_V2_TOPIC: z.string().min(1).default(Topics.purchaseStatusV2),
  SUBJECT_KEYS_TOPIC: z.string().min(1).default(Topics.subjectKeys),
  PERSONAL_DATA_ERASURES_TOPIC: z.string().min(1).default(Topics.personalDataErasures),
  /**
   * Seal every data subject's key (journey.data_subjects): the first key seals,
   * every one opens, so a master key rotates by putting the new one first; the
   * re-seal at start moves every subject key to it, then the old one can go.
   */
  PERSONAL_DATA_MASTER_KEYS: secretBoxKeys('PERSONAL_DATA_MASTER_KEYS'),
  /** The pepper of the e-mail blind index (HMAC-SHA256): base64 of at least 32 bytes. Never rotated in place: the index would stop matching. */
  PERSONAL_DATA_INDEX_KEY: z
    .string({ error: 'PERSONAL_DATA_INDEX_KEY is required (base64 of at least 32 bytes)' })
    .refine((value) => /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length >= 32, 'PERSONAL_DATA_INDEX_KEY must be the base64 of at least 32 bytes'),
  /** Seals subject keys for delivery on journey.subject-keys.v1: the same key list as delivery's (and subscriptions'). */
  SECRETS_ENCRYPTION_KEY: secretBoxKeys('SECRETS_ENCRYPTION_KEY'),
  /**
   * A subject whose purchases are all closed (no command leads anywhere from
   * their statuses) for this long has its key shredded, as an erasure by
   * `retention`; 0 turns it off. Five years by default.
   */
  CLOSED_PURCHASE_PERSONAL_DATA_RETENTION_MS: durationMs(5 * 365 * day),
  PERSONAL_DATA_RETENTION_SCAN_INTERVAL_MS: durationMs(60 * 60 * 1000),
  /** The platform's stored idempotent answers are replayed this long, then deleted (at least an hour). */
  IDEMPOTENCY_KEY_RETENTION_MS: retentionPeriodMs(day),
  /** How often the idempotency answers' retention job runs (0: never in this process). */
  RETENTION_SCAN_INTERVAL_MS: durationMs(60 * 60 * 1000),
});

export type JourneyConfig = ServiceConfig & z.infer<typeof journeyConfigSchema>;
