import { z } from 'zod';

/** What every service needs from its environment; apps extend it with their own keys. */
export const serviceConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z.string({ error: 'DATABASE_URL is required (postgres://user:password@host:port/database)' }).regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL'),
  /** Set: Kafka carries the events. Unset: a durable log in PostgreSQL does (the one-machine default). */
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^\s,]+:\d+(,[^\s,]+:\d+)*$/, 'KAFKA_BROKERS must be host:port[,host:port…]')
    .optional(),
  /** How soon Kafka hands a dead consumer's partitions to another (kafkajs default 30 s; the broker allows 6 s and up). */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).max(300_000).default(30_000),
  /** Schema of the PostgreSQL event log, shared by every service on the database. */
  TRANSPORT_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('gancho_transport'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** pino level of the JSON logs (read when the app is created; validated here with the rest). */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type ServiceConfig = z.infer<typeof serviceConfigSchema>;

export class ServiceConfigError extends Error {
  readonly code = 'SERVICE_CONFIG_INVALID';
}

/** Validates the environment; names every bad key at once, never echoes values (they may be secrets). */
export function parseServiceConfig<Extra extends z.ZodRawShape = Record<never, never>>(env: Record<string, unknown>, defaults: { PORT: number }, extra?: z.ZodObject<Extra>): ServiceConfig & z.infer<z.ZodObject<Extra>> {
  const schema = extra ? serviceConfigSchema.extend(extra.shape) : serviceConfigSchema;
  const result = schema.safeParse({ PORT: defaults.PORT, ...env });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ServiceConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data as ServiceConfig & z.infer<z.ZodObject<Extra>>;
}

/** "true" or "false" from the environment; with a default. */
export const flag = (byDefault: boolean) =>
  z
    .enum(['true', 'false'])
    .default(byDefault ? 'true' : 'false')
    .transform((v) => v === 'true');

/**
 * Which endpoint URLs may be reached: subscriptions checks them at save time
 * and delivery at send time, from these same keys, so what is saved is what
 * is sent to (and what is refused is refused the same way by both).
 */
export const endpointNetworkPolicyShape = {
  /** Accept plain http:// endpoint URLs (local development and tests only). */
  ALLOW_HTTP_ENDPOINTS: flag(false),
  /** Accept endpoints on loopback and private networks (local development and tests only). */
  ALLOW_PRIVATE_NETWORK_ENDPOINTS: flag(false),
  /** Exact host[:port] entries reachable even when private (tests, a local receiver). */
  ALLOWED_ENDPOINT_HOSTS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean),
    ),
};

/** A duration in milliseconds from the environment, e.g. "90000"; with a default. */
export const durationMs = (defaultMs: number) => z.coerce.number().int().min(0).default(defaultMs);

/** How long a store keeps a row, in ms: at least an hour (a smaller value is a mistake that would delete live data), with a default. */
export const retentionPeriodMs = (defaultMs: number) => z.coerce.number().int().min(3_600_000, 'a retention period is at least an hour (3600000 ms)').default(defaultMs);

/** A comma-separated list of secrets (tokens), each long enough to resist guessing. */
export const tokenList = (name: string) =>
  z
    .string({ error: `${name} is required (one or more tokens, comma-separated, 24+ characters each)` })
    .transform((value) =>
      value
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    )
    .refine((tokens) => tokens.length > 0 && tokens.every((t) => t.length >= 24), `${name} must hold tokens of 24+ characters`);
