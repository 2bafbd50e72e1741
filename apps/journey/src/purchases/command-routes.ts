import { z } from 'zod';
import type { PurchaseCommandData, Review, TransitionCommandType } from '@gancho/purchase-domain';
import { commandSlug, transitionCommandTypes } from '@gancho/purchase-domain';

type BodyKindOf<T extends TransitionCommandType> = PurchaseCommandData[T] extends Review ? 'review' : 'reason' extends keyof PurchaseCommandData[T] ? 'reason' : 'none';

/** What each command's body carries, checked against the command's data type at compile time. */
const bodyKinds: { [T in TransitionCommandType]: BodyKindOf<T> } = {
  LogIn: 'none',
  CreateShoppingCart: 'none',
  SubmitBasicInfo: 'none',
  ReviewBasicInfo: 'review',
  SubmitDocuments: 'none',
  ReviewDocuments: 'review',
  RequireGuarantor: 'reason',
  SubmitGuarantor: 'none',
  ReviewGuarantor: 'review',
  StartCreditAnalysis: 'reason',
  ApproveCredit: 'reason',
  DenyCredit: 'reason',
  Deny: 'reason',
  SendForSignature: 'none',
  SignContract: 'none',
  RequestPayment: 'none',
  ConfirmPayment: 'none',
  MakeEffective: 'none',
  AbandonBeforeSignature: 'reason',
  MarkLinkInactive: 'none',
  Expire: 'none',
  AbandonAfterSignature: 'reason',
  AbandonAfterUpfront: 'reason',
  AbandonAfterSettlement: 'reason',
  AbandonIsaAfterSignature: 'reason',
  DeclareIsaDefault: 'reason',
  ConfirmEnrollment: 'none',
  StartStudies: 'none',
  IssueInstallment: 'none',
  PayInstallment: 'none',
  MarkInstallmentLate: 'none',
  ProtestDebt: 'none',
  NegativateStudent: 'none',
  DeclareDefault: 'reason',
  PayOff: 'none',
  RequestIncomeDeclaration: 'none',
  MarkDeclarationLate: 'none',
  SubmitIncomeDeclaration: 'none',
  SendDeclarationToReview: 'reason',
  RecordNoIncome: 'none',
  RecordIncomeBelowMinimum: 'none',
};

const reason = z.string().trim().min(1).max(500).optional().describe('Free text for people; never interpreted.');

const bodySchemas = {
  none: z.strictObject({}),
  reason: z.strictObject({ reason }),
  review: z.strictObject({ decision: z.enum(['approved', 'rejected']), reason }),
} as const;

export type CommandBody = { decision?: 'approved' | 'rejected'; reason?: string };

export interface CommandRoute {
  type: TransitionCommandType;
  /** `submit-basic-info` for SubmitBasicInfo. */
  path: string;
  body: z.ZodType<CommandBody>;
}

export const commandRoutes: CommandRoute[] = transitionCommandTypes.map((type) => ({
  type,
  path: commandSlug(type),
  body: bodySchemas[bodyKinds[type]],
}));
