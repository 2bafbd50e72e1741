import { cloudEventSources, toCloudEventsRecord, type EndpointStateV1, type OperationalEventDataOf } from '@gancho/contracts';
import type { StoredEvent } from '@gancho/event-store';
import type { OutgoingMessage } from '@gancho/messaging';
import type { EndpointDisabled, EndpointEnabled, EndpointSecretRotated } from '@gancho/subscriptions-domain';
import type { EndpointStateSource } from './subscriptions-outbox';

/**
 * Names the operational-events relay's checkpoint. Migration
 * `StartOperationalEventsAtHead` stores it at the head of the event store, so
 * an existing installation publishes only what happens after the upgrade
 * (an endpoint disabled a year ago is no news).
 */
export const operationalEventsRelayName = 'subscriptions.operational-events';

const hourMs = 60 * 60 * 1000;

type TopicEvent = {
  [T in 'endpoint.disabled' | 'endpoint.enabled' | 'endpoint.secret_rotation_ending']: { type: T; data: OperationalEventDataOf[T] };
}['endpoint.disabled' | 'endpoint.enabled' | 'endpoint.secret_rotation_ending'];

/**
 * The operational event an endpoint event is, given the endpoint's state
 * right after it; undefined for the others. A rotation that ends the
 * previous secret at once (no overlap) ends nothing: no event.
 */
export function operationalEventOf(event: Pick<StoredEvent, 'type' | 'data'>, state: EndpointStateV1, noticeMs: number): TopicEvent | undefined {
  const about = { partner_id: state.partner_id, endpoint_id: state.endpoint_id, endpoint_url: state.url };
  switch (event.type) {
    case 'EndpointDisabled': {
      const { reason, detail, occurredAt } = event.data as EndpointDisabled['data'];
      return { type: 'endpoint.disabled', data: { ...about, reason, detail, disabled_at: occurredAt } };
    }
    case 'EndpointEnabled':
      return { type: 'endpoint.enabled', data: { ...about, enabled_at: (event.data as EndpointEnabled['data']).occurredAt } };
    case 'EndpointSecretRotated': {
      const { previousValidUntil, occurredAt } = event.data as EndpointSecretRotated['data'];
      const overlapMs = Date.parse(previousValidUntil) - Date.parse(occurredAt);
      if (!(overlapMs > 0)) return undefined;
      return {
        type: 'endpoint.secret_rotation_ending',
        data: { ...about, rotated_at: occurredAt, previous_secret_expires_at: previousValidUntil, hours_remaining: Math.min(noticeMs, overlapMs) / hourMs },
      };
    }
    default:
      return undefined;
  }
}

/**
 * Publishes the operational events subscriptions knows of on
 * `subscriptions.operational-events.v1`, from the stored endpoint events
 * (outbox: one committed, one published, even across a crash). Reads the
 * store through an endpoint-state source of its own, for the partner and URL
 * of each endpoint.
 */
export class OperationalEventPublication {
  constructor(
    readonly source: EndpointStateSource,
    private readonly noticeMs: number,
  ) {}

  messageOf(event: StoredEvent): OutgoingMessage | undefined {
    const state = this.source.stateAfterEvent(event.eventId);
    if (!state) return undefined;
    const operational = operationalEventOf(event, state, this.noticeMs);
    if (!operational) return undefined;
    const { traceparent, tracestate } = event.metadata;
    // The CloudEvents type is the operational event type itself, as on the purchase status topic.
    return toCloudEventsRecord({
      id: event.eventId,
      type: operational.type,
      source: cloudEventSources.subscriptions,
      time: event.recordedAt,
      subject: state.endpoint_id,
      data: operational.data,
      ...(typeof traceparent === 'string' ? { traceparent } : {}),
      ...(typeof tracestate === 'string' ? { tracestate } : {}),
    });
  }
}
