import { CreateEventStore1764300000000 } from '@gancho/event-store';
import type { ServiceCoreOptions } from '@gancho/service-kit';
import { CreateSubscriptionsReadModels1764500000000 } from './create-read-models';

/** Every migration of the subscriptions schema, oldest first. */
export const subscriptionsMigrations: ServiceCoreOptions['migrations'] = [CreateEventStore1764300000000, CreateSubscriptionsReadModels1764500000000];
