import { statusesInPhase } from '@gancho/contracts';
import { decide } from './decide';
import { evolve, foldPurchase, initialState, type PurchaseEvent, type PurchaseState } from './purchase';
import type { PurchaseCommand, TransitionCommand } from './purchase-commands';
import { nextTimeoutAt, timeoutCommandFor, type TimeoutPolicy } from './timeout-policy';
import { shortestPath } from './transitions';

// Scenarios:
// - An open purchase idle for cartInactiveAfterMs gets MarkLinkInactive; activity resets the clock.
// - A link_inactive purchase gets Expire expireAfterInactiveMs after it became inactive (not after its last activity).
// - Nothing is due for purchases past the open phase, expired ones, or none.

const hour = 3_600_000;
const policy: TimeoutPolicy = { cartInactiveAfterMs: 24 * hour, expireAfterInactiveMs: 7 * 24 * hour };
const purchaseId = 'pur_01JDZ8Q6Y3M4';

/** A clock the test moves by hand. */
class TestClock {
  private ms = Date.parse('2026-11-27T10:00:00.000Z');
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): Date {
    this.ms += ms;
    return this.now();
  }
}

class Purchase {
  state: PurchaseState = initialState();
  constructor(private readonly clock: TestClock) {}

  handle(command: PurchaseCommand): PurchaseEvent[] {
    const events = decide(command, this.state);
    this.state = events.reduce(evolve, this.state);
    return events;
  }

  open(): this {
    this.handle({
      type: 'OpenPurchase',
      data: {
        purchaseId,
        partnerId: 'ptn_1',
        course: { id: 'crs_1', name: 'Data Science', priceCents: 990000, currency: 'BRL' },
        student: { name: 'João Souza', email: 'joao@example.com' },
        studentLoggedIn: true,
      },
      metadata: { now: this.clock.now() },
    });
    return this;
  }

  submitBasicInfo(): void {
    this.handle({ type: 'SubmitBasicInfo', data: { purchaseId }, metadata: { now: this.clock.now() } });
  }

  /** What the scheduler would do now: ask the policy and send its command. */
  tick(): PurchaseEvent[] {
    const command = timeoutCommandFor(this.state, this.clock.now(), policy);
    return command ? this.handle(command) : [];
  }
}

describe('timeout policy', () => {
  let clock: TestClock;
  let purchase: Purchase;
  beforeEach(() => {
    clock = new TestClock();
    purchase = new Purchase(clock).open();
  });

  it('leaves an open purchase alone until it has been idle for cartInactiveAfterMs', () => {
    clock.advance(policy.cartInactiveAfterMs - 1);
    expect(timeoutCommandFor(purchase.state, clock.now(), policy)).toBeUndefined();
    const now = clock.advance(1);
    expect(timeoutCommandFor(purchase.state, now, policy)).toEqual({
      type: 'MarkLinkInactive',
      data: { purchaseId },
      metadata: { now },
    });
    expect(purchase.tick()).toEqual([{ type: 'LinkMarkedInactive', data: { purchaseId, status: 'link_inactive', occurredAt: now.toISOString() } }]);
  });

  it('counts idleness from the last activity', () => {
    clock.advance(20 * hour);
    purchase.submitBasicInfo();
    clock.advance(20 * hour);
    expect(purchase.tick()).toEqual([]);
    expect(nextTimeoutAt(purchase.state, policy)).toEqual(clock.advance(4 * hour));
    expect(purchase.tick()).toMatchObject([{ type: 'LinkMarkedInactive' }]);
  });

  it('expires an inactive link expireAfterInactiveMs after it became inactive', () => {
    clock.advance(30 * hour);
    purchase.tick();
    const inactiveAt = clock.now();
    expect(nextTimeoutAt(purchase.state, policy)).toEqual(new Date(inactiveAt.getTime() + policy.expireAfterInactiveMs));
    clock.advance(policy.expireAfterInactiveMs - 1);
    expect(purchase.tick()).toEqual([]);
    const now = clock.advance(1);
    expect(purchase.tick()).toEqual([{ type: 'PurchaseExpired', data: { purchaseId, status: 'expired', occurredAt: now.toISOString() } }]);
    clock.advance(365 * 24 * hour);
    expect(timeoutCommandFor(purchase.state, clock.now(), policy)).toBeUndefined();
    expect(nextTimeoutAt(purchase.state, policy)).toBeUndefined();
  });

  it('has nothing to do for a purchase that does not exist', () => {
    expect(timeoutCommandFor(initialState(), clock.now(), policy)).toBeUndefined();
    expect(nextTimeoutAt(initialState(), policy)).toBeUndefined();
  });

  const historyTo = (status: Parameters<typeof shortestPath>[1]): PurchaseState => {
    const opened: PurchaseEvent = {
      type: 'PurchaseOpened',
      data: {
        purchaseId,
        partnerId: 'ptn_1',
        course: { id: 'c', name: 'C', priceCents: 1, currency: 'BRL' },
        student: { name: 'S', email: 's@example.com' },
        studentLoggedIn: false,
        status: 'not_logged',
        occurredAt: clock.now().toISOString(),
      },
    };
    let state = foldPurchase([opened]);
    for (const step of shortestPath('not_logged', status) ?? []) {
      const data = step.decision ? { purchaseId, decision: step.decision } : { purchaseId };
      const command = { type: step.command, data, metadata: { now: clock.now() } } as TransitionCommand;
      state = decide(command, state).reduce(evolve, state);
    }
    return state;
  };

  it.each(statusesInPhase('open'))('marks the link inactive, legally, for an idle purchase in %s', (status) => {
    const state = historyTo(status);
    const command = timeoutCommandFor(state, clock.advance(policy.cartInactiveAfterMs), policy);
    expect(command?.type).toBe('MarkLinkInactive');
    expect(decide(command as PurchaseCommand, state)).toMatchObject([{ data: { status: 'link_inactive' } }]);
  });

  it.each(['approved_by_provi', 'waiting_signature', 'made_effective', 'pending', 'denied', 'isa_default'] as const)('has nothing to do for a purchase in %s, however long it waits', (status) => {
    const state = historyTo(status);
    expect(timeoutCommandFor(state, clock.advance(10 * 365 * 24 * hour), policy)).toBeUndefined();
  });
});
