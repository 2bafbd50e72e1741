import type { ServiceCoreOptions } from '@gancho/service-kit';

/** Every migration of the delivery schema, oldest first. */
export const deliveryMigrations: ServiceCoreOptions['migrations'] = [];
