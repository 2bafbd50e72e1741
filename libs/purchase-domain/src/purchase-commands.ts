/**
 * Commands of the purchase journey: imperative, one per step. Time and ids
 * come in from outside (`metadata.now`, `data.purchaseId`), never from the
 * clock or a random source inside the domain.
 */
export interface Course {
  id: string;
  name: string;
  /** Integer minor units (centavos for BRL). */
  priceCents: number;
  /** ISO 4217, upper case. */
  currency: string;
}

export interface Student {
  name: string;
  email: string;
}

export interface CommandMetadata {
  now: Date;
  correlationId?: string;
  causationId?: string;
}

export interface PurchaseRef {
  purchaseId: string;
}

export interface WithReason extends PurchaseRef {
  /** Free text for people (support, the partner's dashboard); never interpreted. */
  reason?: string;
}

export type ReviewDecision = 'approved' | 'rejected';
export const reviewDecisions: readonly ReviewDecision[] = ['approved', 'rejected'];

export interface Review extends WithReason {
  decision: ReviewDecision;
}

export interface OpenPurchaseData extends PurchaseRef {
  partnerId: string;
  course: Course;
  student: Student;
  /** A logged-in student opens straight into `shopping_cart_created`; otherwise the purchase waits in `not_logged`. */
  studentLoggedIn: boolean;
}

/** The data of each command, by command type. */
export interface PurchaseCommandData {
  OpenPurchase: OpenPurchaseData;
  LogIn: PurchaseRef;
  CreateShoppingCart: PurchaseRef;
  SubmitBasicInfo: PurchaseRef;
  ReviewBasicInfo: Review;
  SubmitDocuments: PurchaseRef;
  ReviewDocuments: Review;
  RequireGuarantor: WithReason;
  SubmitGuarantor: PurchaseRef;
  ReviewGuarantor: Review;
  StartCreditAnalysis: WithReason;
  ApproveCredit: WithReason;
  DenyCredit: WithReason;
  Deny: WithReason;
  SendForSignature: PurchaseRef;
  SignContract: PurchaseRef;
  RequestPayment: PurchaseRef;
  ConfirmPayment: PurchaseRef;
  MakeEffective: PurchaseRef;
  AbandonBeforeSignature: WithReason;
  MarkLinkInactive: PurchaseRef;
  Expire: PurchaseRef;
  AbandonAfterSignature: WithReason;
  AbandonAfterUpfront: WithReason;
  AbandonAfterSettlement: WithReason;
  AbandonIsaAfterSignature: WithReason;
  DeclareIsaDefault: WithReason;
  ConfirmEnrollment: PurchaseRef;
  StartStudies: PurchaseRef;
  IssueInstallment: PurchaseRef;
  PayInstallment: PurchaseRef;
  MarkInstallmentLate: PurchaseRef;
  ProtestDebt: PurchaseRef;
  NegativateStudent: PurchaseRef;
  DeclareDefault: WithReason;
  PayOff: PurchaseRef;
  RequestIncomeDeclaration: PurchaseRef;
  MarkDeclarationLate: PurchaseRef;
  SubmitIncomeDeclaration: PurchaseRef;
  SendDeclarationToReview: WithReason;
  RecordNoIncome: PurchaseRef;
  RecordIncomeBelowMinimum: PurchaseRef;
}

export type PurchaseCommandType = keyof PurchaseCommandData;
/** Every command but OpenPurchase moves an existing purchase along the transition table. */
export type TransitionCommandType = Exclude<PurchaseCommandType, 'OpenPurchase'>;

export interface Command<T extends string, D> {
  type: T;
  data: D;
  metadata: CommandMetadata;
}

export type CommandOfType<T extends PurchaseCommandType> = Command<T, PurchaseCommandData[T]>;
export type PurchaseCommand = { [T in PurchaseCommandType]: CommandOfType<T> }[PurchaseCommandType];
export type OpenPurchase = CommandOfType<'OpenPurchase'>;
export type TransitionCommand = Exclude<PurchaseCommand, OpenPurchase>;
export type MarkLinkInactive = CommandOfType<'MarkLinkInactive'>;
export type Expire = CommandOfType<'Expire'>;

/** Commands whose outcome depends on a review decision. */
export const reviewCommandTypes = ['ReviewBasicInfo', 'ReviewDocuments', 'ReviewGuarantor'] as const satisfies readonly {
  [T in TransitionCommandType]: PurchaseCommandData[T] extends Review ? T : never;
}[TransitionCommandType][];
export type ReviewCommandType = (typeof reviewCommandTypes)[number];

export function isReviewCommandType(type: PurchaseCommandType): type is ReviewCommandType {
  return (reviewCommandTypes as readonly string[]).includes(type);
}
