import { Topics } from '@gancho/contracts';
import { defaultRetryScheduleText, parseRetrySchedule } from '@gancho/delivery-domain';
import { durationMs, endpointNetworkPolicyShape, retentionPeriodMs, type ServiceConfig } from '@gancho/service-kit';
import { z } from 'zod';

const day = 24 * 60 * 60 * 1000;
const topic = (name: string) => z.string().min(1).default(name);

/** The delivery service's own configuration keys (the common ones come from service-kit). */
export const deliveryConfigSchema = z.object({
  /** Opens the sealed signing secrets; the same key list as the subscriptions service. */
  SECRETS_ENCRYPTION_KEY: z.string({ error: 'SECRETS_ENCRYPTION_KEY is required (id:base64 of 32 bytes[,…])' }).min(1),
  /** Delays between attempts, e.g. "0s,5s,5m,30m,2h,5h,10h,14h,20h,24h" (about three days). */
  RETRY_SCHEDULE: z
    .string()
    .default(defaultRetryScheduleText)
    .refine((text) => {
      try {
        parseRetrySchedule(text);
        return true;
      } catch {
        return false;
      }
    }, 'RETRY_SCHEDULE must be durations like 0s,5s,5m,2h,1d'),
  REQUEST_TIMEOUT_MS: durationMs(15_000),
  MAX_RESPONSE_BYTES: z.coerce.number().int().min(0).max(65_536).default(4096),
  ...endpointNetworkPolicyShape,
  /** A PEM file of certificate authorities trusted for endpoints besides the system's (a school's private PKI, tests). */
  ENDPOINT_CA_FILE: z.string().min(1).optional(),
  /** Attempts in flight at once in this process, and per endpoint. */
  DISPATCH_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(64),
  ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /**
   * Open webhook connections across all endpoints, idle ones included. Each
   * endpoint has its own pool of ENDPOINT_CONCURRENCY connections, so one
   * endpoint never waits for another's sockets; this bounds their sum.
   */
  OUTBOUND_CONNECTIONS_MAX: z.coerce.number().int().min(1).max(65_536).default(256),
  /** The connections of an endpoint that sent nothing for this long are closed. */
  ENDPOINT_POOL_IDLE_MS: z.coerce.number().int().min(1_000).default(60_000),
  /** How often idle dispatch lanes look for due messages (new messages wake them at once). */
  DISPATCH_POLL_MS: durationMs(500),
  /**
   * An idle lane's wait doubles from DISPATCH_POLL_MS up to this: the longest
   * before this replica notices messages it was not told about (another
   * replica's backlog, a crashed replica's expired leases).
   */
  DISPATCH_IDLE_POLL_MAX_MS: durationMs(5_000),
  /** An endpoint with no success for this long is reported for disabling. */
  ENDPOINT_DISABLE_AFTER_MS: durationMs(5 * day),
  /** Settled messages (the webhook bodies, with the student's data) and their attempts older than this are purged. */
  RETENTION_MS: retentionPeriodMs(30 * day),
  /** Partners' response snippets and error texts (a partner or ActiveCampaign may echo the student back) are blanked on attempts older than this; the attempt stays. */
  RESPONSE_SNIPPET_RETENTION_MS: retentionPeriodMs(7 * day),
  /** Status events held because delivery could not read them (raw records: they may carry student data) are deleted after this. */
  HELD_STATUS_EVENT_RETENTION_MS: retentionPeriodMs(30 * day),
  /** How often the retention job runs (0: never in this process). */
  RETENTION_SCAN_INTERVAL_MS: durationMs(60 * 60 * 1000),
  /** The events API shows status events this far back; the retention job deletes older ones (store delivery.status_events). */
  EVENTS_RETENTION_MS: durationMs(30 * day),
  /** At start, status events wait until the routing table has read the endpoints topic up to its end at start; this is the longest they wait. */
  ENDPOINTS_WARMUP_MS: durationMs(5_000),
  PURCHASE_STATUS_TOPIC: topic(Topics.purchaseStatus),
  /** The status events with the student sealed (LGPD); delivery reads both versions during the upgrade window. */
  PURCHASE_STATUS_V2_TOPIC: topic(Topics.purchaseStatusV2),
  SUBJECT_KEYS_TOPIC: topic(Topics.subjectKeys),
  /** Consumer group of the subject keys (all replicas share it: they share the subject_keys table). */
  SUBJECT_KEYS_CONSUMER_GROUP: z.string().min(1).default('gancho-delivery.subject-keys'),
  PERSONAL_DATA_ERASURES_TOPIC: topic(Topics.personalDataErasures),
  ERASURE_CONSUMER_GROUP: z.string().min(1).default('gancho-delivery.personal-data-erasures'),
  ENDPOINTS_TOPIC: topic(Topics.endpoints),
  API_KEYS_TOPIC: topic(Topics.apiKeys),
  DELIVERY_ATTEMPTS_TOPIC: topic(Topics.deliveryAttempts),
  ENDPOINT_HEALTH_TOPIC: topic(Topics.endpointHealth),
  /** Partner API requests per second per API key, per instance; 0 turns the limit off (the same keys and defaults as subscriptions). */
  PARTNER_API_RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).default(20),
  PARTNER_API_RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(40),
  /** How long a partner request with a key this instance does not know yet waits for the api-keys topic before 503 (see @gancho/partner-auth). */
  API_KEY_CATCH_UP_MAX_WAIT_MS: durationMs(2000),
  /** Where ActiveCampaign endpoints with event tracking on record events (AC's tracking host; tests point it at a local server). */
  ACTIVECAMPAIGN_EVENTS_URL: z.string().url().default('https://trackcmp.net/event'),
  OPERATIONAL_EVENTS_TOPIC: topic(Topics.operationalEvents),
  /** Consumer group of the operational-event consumer (all replicas share it). */
  OPERATIONAL_CONSUMER_GROUP: z.string().min(1).default('gancho-delivery.operational-events'),
  /** A success after at least this many failed attempts in a row is an `endpoint.recovered`. */
  ENDPOINT_RECOVERED_AFTER_FAILURES: z.coerce.number().int().min(1).default(3),
  /** Consumer group of the status-event consumer (all replicas share it). */
  STATUS_CONSUMER_GROUP: z.string().min(1).default('gancho-delivery.status-events'),
});

export type DeliveryConfig = ServiceConfig & z.infer<typeof deliveryConfigSchema>;
