import 'reflect-metadata';
import { runMigrationsAndExit } from '@gancho/service-kit';
import { journeyMigrations } from './migrations';

/** `node dist/migrate.js`: applies the journey schema's migrations and exits (see runMigrationsAndExit). */
runMigrationsAndExit('journey', journeyMigrations);
