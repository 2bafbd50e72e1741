import { CreateEventStore1764300000000 } from '@gancho/event-store';
import type { ServiceCoreOptions } from '@gancho/service-kit';
import { AddEndpointAuth1765300000000 } from './add-endpoint-auth';
import { AddEndpointDestination1764800000000 } from './add-endpoint-destination';
import { CreateSubscriptionsReadModels1764500000000 } from './create-read-models';
import { SealEndpointHeaders1765100000000 } from './seal-endpoint-headers';
import { AddEndpointPayloadFilter1765400000000 } from './add-endpoint-payload-filter';
import { AddEndpointPersonalDataChoice1765321000000 } from './add-endpoint-personal-data-choice';
import { StartOperationalEventsAtHead1765300000000 } from './start-operational-events-at-head';

/** Every migration of the subscriptions schema, oldest first. */
export const subscriptionsMigrations: ServiceCoreOptions['migrations'] = [
  CreateEventStore1764300000000,
  CreateSubscriptionsReadModels1764500000000,
  AddEndpointDestination1764800000000,
  SealEndpointHeaders1765100000000,
  AddEndpointAuth1765300000000,
  StartOperationalEventsAtHead1765300000000,
  AddEndpointPersonalDataChoice1765321000000,
  AddEndpointPayloadFilter1765400000000,
];
