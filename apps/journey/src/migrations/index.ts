import { CreateEventStore1764300000000 } from '@gancho/event-store';
import type { ServiceCoreOptions } from '@gancho/service-kit';
import { CreateDataSubjects1764500000000 } from './create-data-subjects';
import { CreatePurchasesProjection1764400000000 } from './create-purchases-projection';

/** Every migration of the journey schema, oldest first. */
export const journeyMigrations: ServiceCoreOptions['migrations'] = [CreateEventStore1764300000000, CreatePurchasesProjection1764400000000, CreateDataSubjects1764500000000];
