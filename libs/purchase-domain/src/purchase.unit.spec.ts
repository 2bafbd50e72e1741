import { eventTypeOf, phaseOf, toWebhookPayload, webhookPayloadSchema, eventTypes } from '@gancho/contracts';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { decide } from './decide';
import { evolve, foldPurchase, initialState, isPurchaseEventType, purchaseEventTypes, type PurchaseEvent, type PurchaseState } from './purchase';
import type { PurchaseCommand } from './purchase-commands';
import { purchaseStatusEventsOf, statusChangeOf, toPurchaseStatusEventV1 } from './status-event';

const purchaseId = 'pur_01JDZ8Q6Y3M4';
const minute = 60_000;
const start = Date.parse('2026-11-27T10:00:00.000Z');
const at = (minutes: number) => new Date(start + minutes * minute);

/** A whole journey, decided command by command: the stream the journey service would store. */
function journey(steps: ((now: Date) => PurchaseCommand)[]): PurchaseEvent[] {
  let state: PurchaseState = initialState();
  const events: PurchaseEvent[] = [];
  steps.forEach((step, index) => {
    for (const event of decide(step(at(index)), state)) {
      events.push(event);
      state = evolve(state, event);
    }
  });
  return events;
}

const ref = { purchaseId };
const wonJourney = journey([
  (now) => ({
    type: 'OpenPurchase',
    data: {
      purchaseId,
      partnerId: 'ptn_01JDZ7K2',
      course: { id: 'crs_fullstack', name: 'Full-stack Web Development', priceCents: 1234500, currency: 'BRL' },
      student: { name: 'Maria Silva', email: 'maria.silva@example.com' },
      studentLoggedIn: true,
    },
    metadata: { now },
  }),
  (now) => ({ type: 'SubmitBasicInfo', data: ref, metadata: { now } }),
  (now) => ({ type: 'ReviewBasicInfo', data: { ...ref, decision: 'approved' }, metadata: { now } }),
  (now) => ({ type: 'SubmitDocuments', data: ref, metadata: { now } }),
  (now) => ({ type: 'ReviewDocuments', data: { ...ref, decision: 'approved' }, metadata: { now } }),
  (now) => ({ type: 'ApproveCredit', data: ref, metadata: { now } }),
  (now) => ({ type: 'SendForSignature', data: ref, metadata: { now } }),
  (now) => ({ type: 'SignContract', data: ref, metadata: { now } }),
  (now) => ({ type: 'ConfirmPayment', data: ref, metadata: { now } }),
  (now) => ({ type: 'MakeEffective', data: ref, metadata: { now } }),
]);

describe('evolve', () => {
  it('starts with no purchase', () => {
    expect(initialState()).toEqual({ exists: false });
  });

  it('folds a journey into the current purchase', () => {
    expect(foldPurchase(wonJourney)).toEqual({
      exists: true,
      purchaseId,
      partnerId: 'ptn_01JDZ7K2',
      course: { id: 'crs_fullstack', name: 'Full-stack Web Development', priceCents: 1234500, currency: 'BRL' },
      student: { name: 'Maria Silva', email: 'maria.silva@example.com' },
      status: 'made_effective',
      openedAt: at(0).toISOString(),
      statusChangedAt: at(9).toISOString(),
      lastActivityAt: at(9).toISOString(),
      version: 10,
    });
  });

  it('does not count the scheduler marking the link inactive as activity', () => {
    const opened = wonJourney.slice(0, 1);
    const inactive = foldPurchase([...opened, { type: 'LinkMarkedInactive', data: { purchaseId, status: 'link_inactive', occurredAt: at(60).toISOString() } }]);
    expect(inactive).toMatchObject({ status: 'link_inactive', statusChangedAt: at(60).toISOString(), lastActivityAt: at(0).toISOString() });
  });

  it('refuses a corrupt stream', () => {
    const [opened, second] = wonJourney;
    if (!opened || !second) throw new Error('journey too short');
    expect(() => foldPurchase([second])).toThrow(/before PurchaseOpened/);
    expect(() => foldPurchase([opened, opened])).toThrow(/opened twice/);
  });

  it('knows its event types', () => {
    expect(new Set(purchaseEventTypes).size).toBe(purchaseEventTypes.length);
    expect(isPurchaseEventType('ContractSigned')).toBe(true);
    expect(isPurchaseEventType('ContractSign')).toBe(false);
  });
});

describe('status events for the purchase-status topic', () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  for (const type of eventTypes) ajv.addSchema(webhookPayloadSchema(type));

  it('give the status and the previous one of any event', () => {
    const [opened, submitted] = wonJourney;
    if (!opened || !submitted) throw new Error('journey too short');
    expect(statusChangeOf(opened, initialState())).toEqual({ status: 'shopping_cart_created', previousStatus: null });
    expect(statusChangeOf(submitted, foldPurchase([opened]))).toEqual({
      status: 'basic_info_review',
      previousStatus: 'shopping_cart_created',
    });
  });

  it('number and chain the events of a stream', () => {
    const statusEvents = purchaseStatusEventsOf(wonJourney);
    expect(statusEvents.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(statusEvents.map((e) => e.previous_status)).toEqual([null, ...statusEvents.slice(0, -1).map((e) => e.status)]);
    expect(statusEvents[9]).toEqual({
      purchase_id: purchaseId,
      partner_id: 'ptn_01JDZ7K2',
      status: 'made_effective',
      previous_status: 'approved',
      phase: 'won',
      occurred_at: at(9).toISOString(),
      sequence: 10,
      course: { id: 'crs_fullstack', name: 'Full-stack Web Development', price_cents: 1234500, currency: 'BRL' },
      student: { name: 'Maria Silva', email: 'maria.silva@example.com' },
    });
  });

  it('become webhooks that validate against the published schemas', () => {
    let state: PurchaseState = initialState();
    for (const event of wonJourney) {
      const payload = toWebhookPayload(toPurchaseStatusEventV1(event, state));
      expect(payload.type).toBe(eventTypeOf(event.data.status));
      expect(payload.data.phase).toBe(phaseOf(event.data.status));
      const validate = ajv.getSchema(webhookPayloadSchema(payload.type)['$id'] as string);
      expect({ type: payload.type, valid: validate?.(payload), errors: validate?.errors ?? null }).toEqual({
        type: payload.type,
        valid: true,
        errors: null,
      });
      state = evolve(state, event);
    }
  });
});
