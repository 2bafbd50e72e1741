import { CreateEventStore1764300000000 } from '@gancho/event-store';
import type { ServiceCoreOptions } from '@gancho/service-kit';
import { AddActiveCampaignRateSlots1764900000000 } from './add-activecampaign-rate-slots';
import { AddEndpointRecovery1765300000000 } from './add-endpoint-recovery';
import { AddOrderedDelivery1764600000000 } from './add-ordered-delivery';
import { AddMessageTraceContext1764700000000 } from './add-message-trace-context';
import { CreateMessageLog1764500000000 } from './create-message-log';
import { CreateStatusEventLog1765200000000 } from './create-status-event-log';
import { HoldUnreadableStatusEvents1765100000000 } from './hold-unreadable-status-events';
import { IndexRetainedRows1765400000000 } from './index-retained-rows';
import { RelayAttemptsFromLog1765000000000 } from './relay-attempts-from-log';
import { AddSubjectKeys1765322000000 } from './add-subject-keys';

/** Every migration of the delivery schema, oldest first. Attempt rows and the event store (health reports) are the outboxes to Kafka. */
export const deliveryMigrations: ServiceCoreOptions['migrations'] = [
  CreateEventStore1764300000000,
  CreateMessageLog1764500000000,
  AddOrderedDelivery1764600000000,
  AddMessageTraceContext1764700000000,
  AddActiveCampaignRateSlots1764900000000,
  RelayAttemptsFromLog1765000000000,
  HoldUnreadableStatusEvents1765100000000,
  CreateStatusEventLog1765200000000,
  AddEndpointRecovery1765300000000,
  AddSubjectKeys1765322000000,
  IndexRetainedRows1765400000000,
];
