import { eventTypeOf, isEventType, statusOfEventType } from './event-types';
import { describeStatus, isPurchaseStatus, phaseOf, phases, purchaseStatuses, statusCatalog, statusesInPhase, type Phase, type PurchaseStatus } from './status-catalog';

// The design's catalog, restated here so a silent edit of the code shows up.
const designCatalog: Record<Phase, readonly string[]> = {
  open: [
    'not_logged',
    'logged',
    'shopping_cart_created',
    'basic_info_incomplete',
    'basic_info_review',
    'document_info_incomplete',
    'document_info_review',
    'guarantor_needed',
    'guarantor_incomplete',
    'guarantor_review',
    'not_approved_by_provi',
  ],
  waiting_for_conclusion: ['approved_by_provi', 'analysis', 'waiting_signature', 'waiting_payment', 'approved'],
  won: ['made_effective'],
  lost: ['abandonment_before_signed', 'link_inactive', 'expired', 'denied'],
  churn: ['abandonment_after_signed', 'abandonment_after_upfront', 'abandonment_after_settled', 'isa_abandonment_after_signed', 'isa_default'],
  after_sale: [
    'effective',
    'studying',
    'pending',
    'paid',
    'awaiting_declaration',
    'late_declaration',
    'declaration_analysis',
    'declaration_review',
    'no_income',
    'income_below_min',
    'late',
    'protest',
    'negativated',
    'default',
    'fully_paid',
  ],
};

describe('status catalog', () => {
  it('has the 41 statuses of the design, each once, in the design order', () => {
    expect(purchaseStatuses).toHaveLength(41);
    expect(new Set(purchaseStatuses).size).toBe(41);
    expect(purchaseStatuses).toEqual(phases.flatMap((phase) => designCatalog[phase]));
    expect(Object.keys(statusCatalog)).toEqual(purchaseStatuses);
  });

  it.each(phases)('puts the statuses of phase %s in it', (phase) => {
    expect(statusesInPhase(phase)).toEqual(designCatalog[phase]);
  });

  it.each(purchaseStatuses)('gives %s a phase, a description and an event type', (status) => {
    expect(phases).toContain(phaseOf(status));
    expect(describeStatus(status)).toMatch(/^[A-Z].{10,}\.$/);
    const type = eventTypeOf(status);
    expect(type).toBe(`purchase.${status}`);
    expect(type).toMatch(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/);
    expect(isEventType(type)).toBe(true);
    expect(statusOfEventType(type)).toBe(status);
  });

  it('tells statuses from other strings', () => {
    expect(isPurchaseStatus('made_effective')).toBe(true);
    for (const value of ['made-effective', 'MADE_EFFECTIVE', '', 'toString', '__proto__', 42, null, undefined]) {
      expect(isPurchaseStatus(value)).toBe(false);
    }
  });

  it('types phases precisely', () => {
    const phase: 'won' = phaseOf('made_effective');
    const status: PurchaseStatus = 'fully_paid';
    expect([phase, phaseOf(status)]).toEqual(['won', 'after_sale']);
  });
});
