import type { ServiceCoreOptions } from '@gancho/service-kit';

/** Every migration of the subscriptions schema, oldest first. */
export const subscriptionsMigrations: ServiceCoreOptions['migrations'] = [];
