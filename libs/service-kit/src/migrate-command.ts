import { Logger } from '@nestjs/common';
import { openServiceDataSource, type MigrationClass } from '@gancho/persistence';
import { parseServiceConfig } from './config/service-config';
import { CreateIdempotencyKeys1764300000001 } from './http/idempotency';

/** The migrations a service's schema gets, in order: what every service shares, then its own. */
export function serviceMigrations(own: MigrationClass[]): MigrationClass[] {
  return [CreateIdempotencyKeys1764300000001, ...own];
}

/**
 * A service's `migrate` entry point: applies its schema's pending migrations,
 * then exits 0 when the schema is current, 1 otherwise. Deployments run it
 * before the service (Helm pre-install/pre-upgrade hook Job, compose's
 * migrate step), so a bad migration stops a rollout instead of crash-looping
 * new pods. The service still migrates at start; with nothing pending that
 * is a no-op.
 */
export function runMigrationsAndExit(service: string, own: MigrationClass[]): void {
  const logger = new Logger('Migrate');
  const migrate = async () => {
    // Only the common keys matter here (DATABASE_URL); nothing is echoed.
    const config = parseServiceConfig(process.env, { PORT: 0 });
    const dataSource = await openServiceDataSource({
      url: config.DATABASE_URL,
      schema: service,
      migrations: serviceMigrations(own),
      applicationName: `gancho-${service}-migrate`,
      // migrate() holds the advisory lock on one connection while TypeORM migrates on another: one would deadlock.
      poolSize: 2,
    });
    try {
      if (await dataSource.showMigrations()) throw new Error('migrations still pending after migrating');
      logger.log(`${service} schema is up to date`);
    } finally {
      await dataSource.destroy();
    }
  };
  migrate().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error(`migration failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
