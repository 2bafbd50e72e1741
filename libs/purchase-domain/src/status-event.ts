import { phaseOf, type PurchaseStatus, type PurchaseStatusEventV1 } from '@gancho/contracts';
import { evolve, type PurchaseEvent, type PurchaseState } from './purchase';

export interface StatusChange {
  status: PurchaseStatus;
  /** null when the event opens the purchase. */
  previousStatus: PurchaseStatus | null;
}

/** The status change an event makes to a purchase that was in `previousState` before it. */
export function statusChangeOf(event: PurchaseEvent, previousState: PurchaseState): StatusChange {
  return { status: event.data.status, previousStatus: previousState.exists ? previousState.status : null };
}

/**
 * The value published on `journey.purchase-status.v1` for `event`, given the
 * state before it (folded from the same stream, so its version is the
 * event's `sequence` minus one).
 */
export function toPurchaseStatusEventV1(event: PurchaseEvent, previousState: PurchaseState): PurchaseStatusEventV1 {
  const after = evolve(previousState, event);
  if (!after.exists) throw new Error('Unreachable: evolve always yields a purchase');
  const { status, previousStatus } = statusChangeOf(event, previousState);
  return {
    purchase_id: after.purchaseId,
    partner_id: after.partnerId,
    status,
    previous_status: previousStatus,
    phase: phaseOf(status),
    occurred_at: event.data.occurredAt,
    sequence: after.version,
    course: {
      id: after.course.id,
      name: after.course.name,
      price_cents: after.course.priceCents,
      currency: after.course.currency,
    },
    student: { name: after.student.name, email: after.student.email },
  };
}

/** The status events of a whole stream, in order. */
export function purchaseStatusEventsOf(events: readonly PurchaseEvent[]): PurchaseStatusEventV1[] {
  let state: PurchaseState = { exists: false };
  return events.map((event) => {
    const statusEvent = toPurchaseStatusEventV1(event, state);
    state = evolve(state, event);
    return statusEvent;
  });
}
