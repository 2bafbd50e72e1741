import { phaseOf, purchaseStatuses, statusesInPhase, type PurchaseStatus } from '@gancho/contracts';
import { eventTypeOfCommand } from './purchase';
import type { TransitionCommand, TransitionCommandType } from './purchase-commands';
import { allowedCommandsFrom, commandSlug, isTerminal, nextStatus, openingStatuses, reachableStatuses, shortestPath, transitionCommandTypes, transitions, transitionTable } from './transitions';

const command = (type: TransitionCommand['type'], data: Record<string, unknown> = {}): TransitionCommand => ({ type, data: { purchaseId: 'pur_1', ...data }, metadata: { now: new Date(0) } }) as TransitionCommand;

describe('the transition table', () => {
  it('has one rule and one event per command type', () => {
    expect(transitionCommandTypes.slice().sort()).toEqual(Object.keys(eventTypeOfCommand).sort());
    expect(new Set(Object.values(eventTypeOfCommand)).size).toBe(transitionCommandTypes.length);
  });

  it('names no status twice in one rule and never leads a status to itself', () => {
    for (const type of transitionCommandTypes) {
      const { from } = transitionTable[type];
      expect({ type, from: new Set(from).size }).toEqual({ type, from: from.length });
    }
    expect(transitions.filter((t) => t.from === t.to)).toEqual([]);
  });

  it('reaches every status of the catalog from the opening statuses', () => {
    expect([...reachableStatuses(openingStatuses)].sort()).toEqual([...purchaseStatuses].sort());
  });

  it.each(purchaseStatuses)('reaches %s from not_logged along legal transitions', (status) => {
    const path = shortestPath('not_logged', status);
    expect(path).toBeDefined();
    let at: PurchaseStatus = 'not_logged';
    for (const step of path ?? []) {
      expect(step.from).toBe(at);
      expect(transitions).toContainEqual(step);
      at = step.to;
    }
    expect(at).toBe(status);
  });

  it('names each command in kebab-case, the journey API route', () => {
    expect(['SubmitBasicInfo', 'LogIn', 'MakeEffective', 'AbandonIsaAfterSignature'].map((type) => commandSlug(type as TransitionCommandType))).toEqual([
      'submit-basic-info',
      'log-in',
      'make-effective',
      'abandon-isa-after-signature',
    ]);
  });

  it('finds no path to a status that cannot be reached', () => {
    expect(shortestPath('expired', 'made_effective')).toBeUndefined();
    expect(shortestPath('made_effective', 'made_effective')).toEqual([]);
  });

  it.each(purchaseStatuses)('leads %s to some terminal status (no trap)', (status) => {
    expect([...reachableStatuses([status])].some(isTerminal)).toBe(true);
  });

  it('ends the journey in exactly the lost, churn and fully paid statuses', () => {
    expect(purchaseStatuses.filter(isTerminal)).toEqual(['abandonment_before_signed', 'expired', 'denied', ...statusesInPhase('churn'), 'fully_paid']);
  });

  it('lets a lost purchase go nowhere but from an inactive link to expired', () => {
    const out = transitions.filter((t) => phaseOf(t.from) === 'lost');
    expect(out).toEqual([{ from: 'link_inactive', command: 'Expire', to: 'expired' }]);
  });

  it('never takes a won purchase back to open, waiting or lost', () => {
    const phases = new Set([...reachableStatuses(['made_effective'])].map((status) => phaseOf(status)));
    expect([...phases].sort()).toEqual(['after_sale', 'churn', 'won']);
  });

  it('wins only through payment approval', () => {
    expect(transitions.filter((t) => t.to === 'made_effective')).toEqual([{ from: 'approved', command: 'MakeEffective', to: 'made_effective' }]);
  });

  it('marks links inactive in every open status and in no other', () => {
    for (const status of purchaseStatuses) {
      expect({ status, allowed: allowedCommandsFrom(status).includes('MarkLinkInactive') }).toEqual({
        status,
        allowed: phaseOf(status) === 'open',
      });
    }
  });

  it('lets the student abandon before signing until the contract is signed, and not after', () => {
    const before = transitionTable.AbandonBeforeSignature.from;
    expect(before).toEqual(expect.arrayContaining([...statusesInPhase('open'), 'approved_by_provi', 'analysis', 'waiting_signature']));
    for (const status of reachableStatuses(['waiting_payment'])) expect(before).not.toContain(status);
  });

  it('leads a review by its decision', () => {
    expect(nextStatus('basic_info_review', command('ReviewBasicInfo', { decision: 'approved' }))).toBe('document_info_incomplete');
    expect(nextStatus('basic_info_review', command('ReviewBasicInfo', { decision: 'rejected' }))).toBe('basic_info_incomplete');
    expect(nextStatus('document_info_review', command('ReviewDocuments', { decision: 'rejected' }))).toBe('document_info_incomplete');
    expect(nextStatus('guarantor_review', command('ReviewGuarantor', { decision: 'rejected' }))).toBe('guarantor_incomplete');
    expect(nextStatus('basic_info_review', command('ReviewBasicInfo'))).toBeUndefined();
  });

  it('allows nothing the table does not list', () => {
    expect(nextStatus('made_effective', command('SignContract'))).toBeUndefined();
    expect(allowedCommandsFrom('waiting_signature')).toEqual(['SignContract', 'AbandonBeforeSignature']);
  });
});
