import { z } from 'zod';
import { Topics } from '@gancho/contracts';
import { parseSecretBoxKeys } from '@gancho/secret-box';
import { durationMs, endpointNetworkPolicyShape, flag, tokenList, type ServiceConfig } from '@gancho/service-kit';
import { portalConfigShape } from './portal/portal.config';

const day = 24 * 60 * 60 * 1000;

/** The subscriptions service's own configuration keys (the common ones come from service-kit). */
export const subscriptionsConfigSchema = z.object({
  /** Bearer tokens of Gancho's operators, for the admin API (comma-separated; two during a rotation). */
  SUBSCRIPTIONS_ADMIN_TOKENS: tokenList('SUBSCRIPTIONS_ADMIN_TOKENS'),
  /**
   * Seals signing secrets: `<keyId>:<base64 of 32 bytes>`, comma-separated;
   * the first seals, all open (see @gancho/secret-box). Delivery needs the same.
   */
  SECRETS_ENCRYPTION_KEY: z.string({ error: 'SECRETS_ENCRYPTION_KEY is required (<keyId>:<base64 of 32 bytes>[,…])' }).superRefine((value, context) => {
    try {
      parseSecretBoxKeys(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: error instanceof Error ? error.message : 'invalid' });
    }
  }),
  ...endpointNetworkPolicyShape,
  /** After a rotation, the previous signing secret stays valid this long. */
  SECRET_ROTATION_OVERLAP_MS: durationMs(day),
  /** Partner API requests per second per API key, per instance; 0 turns the limit off. */
  PARTNER_API_RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).default(20),
  PARTNER_API_RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(40),
  /** How long a partner request with a key this instance does not know yet waits for the api-keys topic before 503 (see @gancho/partner-auth). */
  API_KEY_CATCH_UP_MAX_WAIT_MS: durationMs(2000),
  /** Publish stored events to the endpoints and api-keys topics from this process. */
  OUTBOX_RELAY_ENABLED: flag(true),
  /** Issuing a key waits this long at most for its record to reach the api-keys topic (see ApiKeyPublication). */
  API_KEY_PUBLISH_WAIT_MS: durationMs(5000),
  /** Tests give each run its own topics; deployments keep the contract's names. */
  ENDPOINTS_TOPIC: z.string().min(1).default(Topics.endpoints),
  API_KEYS_TOPIC: z.string().min(1).default(Topics.apiKeys),
  OPERATIONAL_EVENTS_TOPIC: z.string().min(1).default(Topics.operationalEvents),
  /** `endpoint.secret_rotation_ending` is sent this long before the previous secret stops verifying (at the rotation when the overlap is shorter). */
  SECRET_ROTATION_NOTICE_MS: durationMs(day),
  /** Consumer group that applies delivery's endpoint-health reports (one per deployment). */
  ENDPOINT_HEALTH_CONSUMER_GROUP: z.string().min(1).default('gancho-subscriptions.endpoint-health'),
  ...portalConfigShape,
});

export type SubscriptionsConfig = ServiceConfig & z.infer<typeof subscriptionsConfigSchema>;
