/**
 * The purchase statuses partners see, with their phase. Names are the ones the
 * existing platform uses; renaming one is a breaking change for partners.
 */
export const phases = ['open', 'waiting_for_conclusion', 'won', 'lost', 'churn', 'after_sale'] as const;
export type Phase = (typeof phases)[number];

/** Every status, in journey order (the order of the design's catalog). */
export const purchaseStatuses = [
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
  'approved_by_provi',
  'analysis',
  'waiting_signature',
  'waiting_payment',
  'approved',
  'made_effective',
  'abandonment_before_signed',
  'link_inactive',
  'expired',
  'denied',
  'abandonment_after_signed',
  'abandonment_after_upfront',
  'abandonment_after_settled',
  'isa_abandonment_after_signed',
  'isa_default',
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
] as const;
export type PurchaseStatus = (typeof purchaseStatuses)[number];

export interface StatusInfo {
  readonly phase: Phase;
  readonly description: string;
}

/** Phase and partner-facing description of every status. */
export const statusCatalog = {
  not_logged: { phase: 'open', description: 'The student opened the checkout link but has not logged in yet.' },
  logged: { phase: 'open', description: 'The student logged in; the shopping cart is not created yet.' },
  shopping_cart_created: { phase: 'open', description: 'The student has a shopping cart with the course.' },
  basic_info_incomplete: {
    phase: 'open',
    description: "The student's basic information is missing or was sent back for correction.",
  },
  basic_info_review: { phase: 'open', description: "The student's basic information is under review." },
  document_info_incomplete: {
    phase: 'open',
    description: "The student's documents are missing or were sent back for correction.",
  },
  document_info_review: { phase: 'open', description: "The student's documents are under review." },
  guarantor_needed: { phase: 'open', description: 'The credit requires a guarantor, who has not been provided yet.' },
  guarantor_incomplete: {
    phase: 'open',
    description: "The guarantor's information is missing or was sent back for correction.",
  },
  guarantor_review: { phase: 'open', description: "The guarantor's information is under review." },
  not_approved_by_provi: {
    phase: 'open',
    description: 'Provi did not approve the credit as requested; the student may still change it or add a guarantor.',
  },
  approved_by_provi: { phase: 'waiting_for_conclusion', description: 'Provi approved the credit; the contract comes next.' },
  analysis: { phase: 'waiting_for_conclusion', description: 'The credit request is being analysed.' },
  waiting_signature: {
    phase: 'waiting_for_conclusion',
    description: "The contract was sent and awaits the student's signature.",
  },
  waiting_payment: { phase: 'waiting_for_conclusion', description: 'The payment is awaited.' },
  approved: {
    phase: 'waiting_for_conclusion',
    description: 'The payment was confirmed; the purchase awaits being made effective.',
  },
  made_effective: { phase: 'won', description: 'The purchase is concluded: the school can enroll the student.' },
  abandonment_before_signed: { phase: 'lost', description: 'The student gave up before signing the contract.' },
  link_inactive: { phase: 'lost', description: 'The checkout link went inactive after a period without activity.' },
  expired: { phase: 'lost', description: 'The purchase expired after its link stayed inactive.' },
  denied: { phase: 'lost', description: 'The credit was denied for good.' },
  abandonment_after_signed: {
    phase: 'churn',
    description: 'The student gave up after signing the contract, before paying.',
  },
  abandonment_after_upfront: { phase: 'churn', description: 'The student gave up after paying the upfront amount.' },
  abandonment_after_settled: { phase: 'churn', description: 'The student gave up after the purchase was settled.' },
  isa_abandonment_after_signed: {
    phase: 'churn',
    description: 'The student gave up after signing an income share agreement (ISA).',
  },
  isa_default: { phase: 'churn', description: 'The student defaulted on an income share agreement (ISA).' },
  effective: { phase: 'after_sale', description: "The student's enrollment is effective." },
  studying: { phase: 'after_sale', description: 'The student is attending the course.' },
  pending: { phase: 'after_sale', description: 'An installment is due and not paid yet.' },
  paid: { phase: 'after_sale', description: 'The latest installment was paid.' },
  awaiting_declaration: { phase: 'after_sale', description: "The student's income declaration is awaited." },
  late_declaration: { phase: 'after_sale', description: "The student's income declaration is overdue." },
  declaration_analysis: { phase: 'after_sale', description: 'The income declaration is being analysed.' },
  declaration_review: { phase: 'after_sale', description: 'The income declaration is under manual review.' },
  no_income: { phase: 'after_sale', description: 'The student declared no income; nothing is due this period.' },
  income_below_min: {
    phase: 'after_sale',
    description: "The student's income is below the minimum; nothing is due this period.",
  },
  late: { phase: 'after_sale', description: 'An installment is overdue.' },
  protest: { phase: 'after_sale', description: 'The overdue debt was protested at a notary.' },
  negativated: { phase: 'after_sale', description: 'The student was reported to credit bureaus for the overdue debt.' },
  default: { phase: 'after_sale', description: 'The debt is in default.' },
  fully_paid: { phase: 'after_sale', description: 'The debt is fully paid.' },
} as const satisfies Record<PurchaseStatus, StatusInfo>;

/** The phase of status `S`, at the type level. */
export type PhaseOf<S extends PurchaseStatus> = (typeof statusCatalog)[S]['phase'];

export function isPurchaseStatus(value: unknown): value is PurchaseStatus {
  return typeof value === 'string' && Object.hasOwn(statusCatalog, value);
}

export function phaseOf<S extends PurchaseStatus>(status: S): PhaseOf<S> {
  return statusCatalog[status].phase as PhaseOf<S>;
}

export function describeStatus(status: PurchaseStatus): string {
  return statusCatalog[status].description;
}

/** The statuses of one phase, in catalog order. */
export function statusesInPhase(phase: Phase): PurchaseStatus[] {
  return purchaseStatuses.filter((status) => statusCatalog[status].phase === phase);
}
