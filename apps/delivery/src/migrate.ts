import 'reflect-metadata';
import { runMigrationsAndExit } from '@gancho/service-kit';
import { deliveryMigrations } from './migrations';

/** `node dist/migrate.js`: applies the delivery schema's migrations and exits (see runMigrationsAndExit). */
runMigrationsAndExit('delivery', deliveryMigrations);
