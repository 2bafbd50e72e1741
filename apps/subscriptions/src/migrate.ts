import 'reflect-metadata';
import { runMigrationsAndExit } from '@gancho/service-kit';
import { subscriptionsMigrations } from './migrations';

/** `node dist/migrate.js`: applies the subscriptions schema's migrations and exits (see runMigrationsAndExit). */
runMigrationsAndExit('subscriptions', subscriptionsMigrations);
