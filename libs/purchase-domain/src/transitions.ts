import { statusesInPhase, type PurchaseStatus } from '@gancho/contracts';
import type { PurchaseCommandData, ReviewCommandType, ReviewDecision, TransitionCommand, TransitionCommandType } from './purchase-commands';
import { reviewDecisions } from './purchase-commands';

type ReviewTarget = Readonly<Record<ReviewDecision, PurchaseStatus>>;
export type TransitionTarget = PurchaseStatus | ReviewTarget;

/** Where a command may be applied and where it leads; a review leads by its decision. */
export interface TransitionRule<T extends TransitionCommandType = TransitionCommandType> {
  readonly from: readonly PurchaseStatus[];
  readonly to: T extends ReviewCommandType ? ReviewTarget : PurchaseStatus;
}

const openStatuses = statusesInPhase('open');

/**
 * THE legal transitions: (current status, command type) → next status, one
 * rule per command. Anything not here is refused with ILLEGAL_TRANSITION.
 * OpenPurchase is not here: it applies to no status (see `openingStatusOf`).
 */
export const transitionTable: { readonly [T in TransitionCommandType]: TransitionRule<T> } = {
  // Open: the student fills in the purchase; a rejected review sends the step back.
  LogIn: { from: ['not_logged'], to: 'logged' },
  CreateShoppingCart: { from: ['logged'], to: 'shopping_cart_created' },
  SubmitBasicInfo: { from: ['shopping_cart_created', 'basic_info_incomplete'], to: 'basic_info_review' },
  ReviewBasicInfo: {
    from: ['basic_info_review'],
    to: { approved: 'document_info_incomplete', rejected: 'basic_info_incomplete' },
  },
  SubmitDocuments: { from: ['document_info_incomplete'], to: 'document_info_review' },
  ReviewDocuments: { from: ['document_info_review'], to: { approved: 'analysis', rejected: 'document_info_incomplete' } },
  RequireGuarantor: { from: ['analysis', 'not_approved_by_provi'], to: 'guarantor_needed' },
  SubmitGuarantor: { from: ['guarantor_needed', 'guarantor_incomplete'], to: 'guarantor_review' },
  ReviewGuarantor: { from: ['guarantor_review'], to: { approved: 'analysis', rejected: 'guarantor_incomplete' } },

  // Credit: a refusal by Provi keeps the purchase open (the student may change
  // the request or add a guarantor); Deny closes it for good.
  StartCreditAnalysis: { from: ['not_approved_by_provi'], to: 'analysis' },
  ApproveCredit: { from: ['analysis'], to: 'approved_by_provi' },
  DenyCredit: { from: ['analysis'], to: 'not_approved_by_provi' },
  Deny: {
    from: ['basic_info_review', 'document_info_review', 'guarantor_review', 'analysis', 'not_approved_by_provi'],
    to: 'denied',
  },

  // Conclusion. RequestPayment is for a purchase with no contract to sign.
  SendForSignature: { from: ['approved_by_provi'], to: 'waiting_signature' },
  SignContract: { from: ['waiting_signature'], to: 'waiting_payment' },
  RequestPayment: { from: ['approved_by_provi'], to: 'waiting_payment' },
  ConfirmPayment: { from: ['waiting_payment'], to: 'approved' },
  MakeEffective: { from: ['approved'], to: 'made_effective' },

  // Lost. Only the scheduler (see timeout-policy) marks links inactive and expires them.
  AbandonBeforeSignature: {
    from: [...openStatuses, 'approved_by_provi', 'analysis', 'waiting_signature'],
    to: 'abandonment_before_signed',
  },
  MarkLinkInactive: { from: openStatuses, to: 'link_inactive' },
  Expire: { from: ['link_inactive'], to: 'expired' },

  // Churn: the student leaves after committing.
  AbandonAfterSignature: { from: ['waiting_payment'], to: 'abandonment_after_signed' },
  AbandonAfterUpfront: { from: ['approved'], to: 'abandonment_after_upfront' },
  AbandonAfterSettlement: { from: ['made_effective', 'effective', 'studying'], to: 'abandonment_after_settled' },
  AbandonIsaAfterSignature: {
    from: ['waiting_payment', 'approved', 'made_effective', 'effective', 'studying'],
    to: 'isa_abandonment_after_signed',
  },
  DeclareIsaDefault: { from: ['late_declaration', 'late', 'protest', 'negativated', 'default'], to: 'isa_default' },

  // After the sale: enrollment, installments and collection, income declarations (ISA).
  ConfirmEnrollment: { from: ['made_effective'], to: 'effective' },
  StartStudies: { from: ['effective'], to: 'studying' },
  IssueInstallment: { from: ['effective', 'studying', 'paid', 'declaration_analysis', 'declaration_review'], to: 'pending' },
  PayInstallment: { from: ['pending', 'late', 'protest', 'negativated', 'default'], to: 'paid' },
  MarkInstallmentLate: { from: ['pending'], to: 'late' },
  ProtestDebt: { from: ['late'], to: 'protest' },
  NegativateStudent: { from: ['late', 'protest'], to: 'negativated' },
  DeclareDefault: { from: ['late', 'protest', 'negativated'], to: 'default' },
  PayOff: {
    from: ['effective', 'studying', 'pending', 'paid', 'late', 'protest', 'negativated', 'default'],
    to: 'fully_paid',
  },
  RequestIncomeDeclaration: { from: ['studying', 'paid', 'no_income', 'income_below_min'], to: 'awaiting_declaration' },
  MarkDeclarationLate: { from: ['awaiting_declaration'], to: 'late_declaration' },
  SubmitIncomeDeclaration: { from: ['awaiting_declaration', 'late_declaration'], to: 'declaration_analysis' },
  SendDeclarationToReview: { from: ['declaration_analysis'], to: 'declaration_review' },
  RecordNoIncome: { from: ['declaration_analysis', 'declaration_review'], to: 'no_income' },
  RecordIncomeBelowMinimum: { from: ['declaration_analysis', 'declaration_review'], to: 'income_below_min' },
};

export const transitionCommandTypes = Object.keys(transitionTable) as TransitionCommandType[];

/** One edge of the status graph. */
export interface Transition {
  readonly from: PurchaseStatus;
  readonly command: TransitionCommandType;
  /** Only on review commands. */
  readonly decision?: ReviewDecision;
  readonly to: PurchaseStatus;
}

function targetsOf(to: TransitionTarget): { decision?: ReviewDecision; to: PurchaseStatus }[] {
  return typeof to === 'string' ? [{ to }] : reviewDecisions.map((decision) => ({ decision, to: to[decision] }));
}

/** Every legal transition, flattened from the table. */
export const transitions: readonly Transition[] = transitionCommandTypes.flatMap((command) => {
  const rule: TransitionRule = transitionTable[command];
  return rule.from.flatMap((from) => targetsOf(rule.to).map((target) => ({ from, command, ...target })));
});

/** A purchase opens in `shopping_cart_created` when the student is logged in, `not_logged` otherwise. */
export function openingStatusOf(studentLoggedIn: boolean): PurchaseStatus {
  return studentLoggedIn ? 'shopping_cart_created' : 'not_logged';
}
export const openingStatuses: readonly PurchaseStatus[] = [openingStatusOf(false), openingStatusOf(true)];

/** The command types that may be applied to a purchase in `status`, in table order. */
export function allowedCommandsFrom(status: PurchaseStatus): TransitionCommandType[] {
  return transitionCommandTypes.filter((command) => transitionTable[command].from.includes(status));
}

/** The status `command` leads to from `status`, or undefined when the table does not allow it. */
export function nextStatus(status: PurchaseStatus, command: TransitionCommand): PurchaseStatus | undefined {
  const rule: TransitionRule = transitionTable[command.type];
  if (!rule.from.includes(status)) return undefined;
  if (typeof rule.to === 'string') return rule.to;
  const decision = (command.data as Partial<PurchaseCommandData[ReviewCommandType]>).decision;
  return decision === undefined ? undefined : rule.to[decision];
}

/** A status no command leaves. */
export function isTerminal(status: PurchaseStatus): boolean {
  return allowedCommandsFrom(status).length === 0;
}

/** Every status reachable from `from` (included) through the table. */
export function reachableStatuses(from: readonly PurchaseStatus[]): Set<PurchaseStatus> {
  const seen = new Set<PurchaseStatus>(from);
  const queue = [...from];
  for (let status = queue.shift(); status !== undefined; status = queue.shift()) {
    for (const transition of transitions) {
      if (transition.from === status && !seen.has(transition.to)) {
        seen.add(transition.to);
        queue.push(transition.to);
      }
    }
  }
  return seen;
}

/** A command's name in kebab-case (`submit-basic-info` for SubmitBasicInfo): the journey API's route for it. */
export function commandSlug(type: TransitionCommandType): string {
  return type.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/**
 * A shortest sequence of transitions from `from` to `target` (breadth-first
 * over the table), or undefined when `target` cannot be reached.
 */
export function shortestPath(from: PurchaseStatus, target: PurchaseStatus): Transition[] | undefined {
  const cameBy = new Map<PurchaseStatus, Transition | null>([[from, null]]);
  const queue: PurchaseStatus[] = [from];
  for (let status = queue.shift(); status !== undefined; status = queue.shift()) {
    if (status === target) {
      const path: Transition[] = [];
      for (let step = cameBy.get(status); step; step = cameBy.get(step.from)) path.unshift(step);
      return path;
    }
    for (const transition of transitions) {
      if (transition.from === status && !cameBy.has(transition.to)) {
        cameBy.set(transition.to, transition);
        queue.push(transition.to);
      }
    }
  }
  return undefined;
}
