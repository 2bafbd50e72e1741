import { phaseOf } from '@gancho/contracts';
import type { PurchaseState } from './purchase';
import type { Expire, MarkLinkInactive } from './purchase-commands';

/** How long a purchase may sit idle. */
export interface TimeoutPolicy {
  /** An open purchase with no activity for this long has its link marked inactive. */
  cartInactiveAfterMs: number;
  /** A purchase whose link has been inactive for this long expires. */
  expireAfterInactiveMs: number;
}

function dueAt(state: PurchaseState, policy: TimeoutPolicy): { at: number; command: 'MarkLinkInactive' | 'Expire' } | undefined {
  if (!state.exists) return undefined;
  if (phaseOf(state.status) === 'open') {
    return { at: Date.parse(state.lastActivityAt) + policy.cartInactiveAfterMs, command: 'MarkLinkInactive' };
  }
  if (state.status === 'link_inactive') {
    return { at: Date.parse(state.statusChangedAt) + policy.expireAfterInactiveMs, command: 'Expire' };
  }
  return undefined;
}

/**
 * The time-based command due for a purchase at `now`, for the scheduler to
 * send like any other command: MarkLinkInactive once an open purchase has had
 * no activity for `cartInactiveAfterMs`, Expire once its link has been
 * inactive for `expireAfterInactiveMs`; undefined when nothing is due.
 */
export function timeoutCommandFor(state: PurchaseState, now: Date, policy: TimeoutPolicy): MarkLinkInactive | Expire | undefined {
  const due = dueAt(state, policy);
  if (!state.exists || due === undefined || now.getTime() < due.at) return undefined;
  return { type: due.command, data: { purchaseId: state.purchaseId }, metadata: { now } };
}

/** When `timeoutCommandFor` will next return a command for this purchase, if ever (for the scheduler's queue). */
export function nextTimeoutAt(state: PurchaseState, policy: TimeoutPolicy): Date | undefined {
  const due = dueAt(state, policy);
  return due === undefined ? undefined : new Date(due.at);
}
