import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { openServiceDataSource } from '@gancho/persistence';
import { CreateIdempotencyKeys1764300000001, parseServiceConfig } from '@gancho/service-kit';
import { subscriptionsMigrations } from './migrations';

/**
 * Applies the subscriptions schema's pending migrations, then exits: 0 when the
 * schema is current, 1 otherwise. Deployments run it before the service
 * (Helm pre-install/pre-upgrade hook Job, compose's migrate step), so a bad
 * migration stops a rollout instead of crash-looping new pods. The service
 * still migrates at start; with nothing pending that is a no-op.
 */
async function migrate(): Promise<void> {
  const logger = new Logger('Migrate');
  // Only the common keys matter here (DATABASE_URL); nothing is echoed.
  const config = parseServiceConfig(process.env, { PORT: 3002 });
  const dataSource = await openServiceDataSource({
    url: config.DATABASE_URL,
    schema: 'subscriptions',
    // The same list, in the same order, as ServiceCoreModule applies at start.
    migrations: [CreateIdempotencyKeys1764300000001, ...subscriptionsMigrations],
    applicationName: 'gancho-subscriptions-migrate',
    poolSize: 1,
  });
  try {
    const pending = await dataSource.showMigrations();
    if (pending) throw new Error('migrations still pending after migrating');
    logger.log('subscriptions schema is up to date');
  } finally {
    await dataSource.destroy();
  }
}

migrate().then(
  () => process.exit(0),
  (error: unknown) => {
    new Logger('Migrate').error(`migration failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
