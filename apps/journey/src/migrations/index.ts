import type { ServiceCoreOptions } from '@gancho/service-kit';

/** Every migration of the journey schema, oldest first. */
export const journeyMigrations: ServiceCoreOptions['migrations'] = [];
