import { matchesEventTypeFilter, type EventTypeFilter } from '@gancho/contracts';
import type { PayloadPredicate } from './payload-filter';

/** What the routing step knows of an endpoint: its published state, and its payload filter compiled (absent when it has none). */
export interface RoutingCandidate {
  state: { enabled: boolean; event_types: EventTypeFilter };
  matches?: PayloadPredicate;
}

/**
 * Whether an endpoint receives an event: it is enabled, its event-type
 * filter takes the type, and its payload filter, if it has one, matches the
 * event's data. An endpoint without a payload filter costs one check more.
 */
export function receivesEvent(endpoint: RoutingCandidate, type: string, data: unknown): boolean {
  return receivesEventType(endpoint, type) && (endpoint.matches === undefined || endpoint.matches(data));
}

/** Whether an enabled endpoint subscribes to `type`, its payload filter aside (for notices every subscriber must get). */
export function receivesEventType(endpoint: RoutingCandidate, type: string): boolean {
  return endpoint.state.enabled && matchesEventTypeFilter(endpoint.state.event_types, type);
}
