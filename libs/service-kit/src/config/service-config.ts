import { z } from 'zod';

/** What every service needs from its environment; apps extend it with their own keys. */
export const serviceConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string({ error: 'DATABASE_URL is required (postgres://user:password@host:port/database)' })
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL'),
  KAFKA_BROKERS: z
    .string({ error: 'KAFKA_BROKERS is required (host:port[,host:port…])' })
    .regex(/^[^\s,]+:\d+(,[^\s,]+:\d+)*$/, 'KAFKA_BROKERS must be host:port[,host:port…]'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
});

export type ServiceConfig = z.infer<typeof serviceConfigSchema>;

export class ServiceConfigError extends Error {
  readonly code = 'SERVICE_CONFIG_INVALID';
}

/** Validates the environment; names every bad key at once, never echoes values (they may be secrets). */
export function parseServiceConfig(env: Record<string, unknown>, defaults: { PORT: number }): ServiceConfig {
  const result = serviceConfigSchema.safeParse({ PORT: defaults.PORT, ...env });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ServiceConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}
