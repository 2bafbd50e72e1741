import type { PurchaseStatus } from '@gancho/contracts';
import type { Course, OpenPurchaseData, PurchaseCommandData, Student, TransitionCommandType } from './purchase-commands';

/**
 * The events of a purchase, past tense, one per command. Every event carries
 * the status it leads to and when (`occurredAt`, from the command's
 * `metadata.now`), so each one is a status change on its own.
 */
export const eventTypeOfCommand = {
  LogIn: 'StudentLoggedIn',
  CreateShoppingCart: 'ShoppingCartCreated',
  SubmitBasicInfo: 'BasicInfoSubmitted',
  ReviewBasicInfo: 'BasicInfoReviewed',
  SubmitDocuments: 'DocumentsSubmitted',
  ReviewDocuments: 'DocumentsReviewed',
  RequireGuarantor: 'GuarantorRequired',
  SubmitGuarantor: 'GuarantorSubmitted',
  ReviewGuarantor: 'GuarantorReviewed',
  StartCreditAnalysis: 'CreditAnalysisStarted',
  ApproveCredit: 'CreditApproved',
  DenyCredit: 'CreditDenied',
  Deny: 'PurchaseDenied',
  SendForSignature: 'ContractSentForSignature',
  SignContract: 'ContractSigned',
  RequestPayment: 'PaymentRequested',
  ConfirmPayment: 'PaymentConfirmed',
  MakeEffective: 'PurchaseMadeEffective',
  AbandonBeforeSignature: 'PurchaseAbandonedBeforeSignature',
  MarkLinkInactive: 'LinkMarkedInactive',
  Expire: 'PurchaseExpired',
  AbandonAfterSignature: 'PurchaseAbandonedAfterSignature',
  AbandonAfterUpfront: 'PurchaseAbandonedAfterUpfront',
  AbandonAfterSettlement: 'PurchaseAbandonedAfterSettlement',
  AbandonIsaAfterSignature: 'IsaAbandonedAfterSignature',
  DeclareIsaDefault: 'IsaDefaultDeclared',
  ConfirmEnrollment: 'EnrollmentConfirmed',
  StartStudies: 'StudiesStarted',
  IssueInstallment: 'InstallmentIssued',
  PayInstallment: 'InstallmentPaid',
  MarkInstallmentLate: 'InstallmentMarkedLate',
  ProtestDebt: 'DebtProtested',
  NegativateStudent: 'StudentNegativated',
  DeclareDefault: 'DefaultDeclared',
  PayOff: 'DebtPaidOff',
  RequestIncomeDeclaration: 'IncomeDeclarationRequested',
  MarkDeclarationLate: 'DeclarationMarkedLate',
  SubmitIncomeDeclaration: 'IncomeDeclarationSubmitted',
  SendDeclarationToReview: 'DeclarationSentToReview',
  RecordNoIncome: 'NoIncomeRecorded',
  RecordIncomeBelowMinimum: 'IncomeBelowMinimumRecorded',
} as const satisfies Record<TransitionCommandType, string>;

export interface Event<T extends string, D> {
  type: T;
  data: D;
}

export interface StatusStamp {
  /** The status the purchase is in after this event. */
  status: PurchaseStatus;
  /** ISO 8601 (UTC), from the command's `metadata.now`. */
  occurredAt: string;
}

export type PurchaseOpened = Event<'PurchaseOpened', OpenPurchaseData & StatusStamp>;
type EventOfCommand<C extends TransitionCommandType> = Event<(typeof eventTypeOfCommand)[C], PurchaseCommandData[C] & StatusStamp>;
/** Every event but PurchaseOpened: its data is the command's data plus the status stamp. */
export type PurchaseStatusChanged = { [C in TransitionCommandType]: EventOfCommand<C> }[TransitionCommandType];
export type PurchaseEvent = PurchaseOpened | PurchaseStatusChanged;
export type PurchaseEventType = PurchaseEvent['type'];
export type PurchaseEventOfType<T extends PurchaseEventType> = Extract<PurchaseEvent, { type: T }>;

export const purchaseEventTypes: readonly PurchaseEventType[] = ['PurchaseOpened', ...Object.values(eventTypeOfCommand)];

export function isPurchaseEventType(value: unknown): value is PurchaseEventType {
  return typeof value === 'string' && (purchaseEventTypes as readonly string[]).includes(value);
}

export interface NoPurchase {
  readonly exists: false;
}

export interface Purchase {
  readonly exists: true;
  readonly purchaseId: string;
  readonly partnerId: string;
  readonly course: Readonly<Course>;
  readonly student: Readonly<Student>;
  readonly status: PurchaseStatus;
  readonly openedAt: string;
  /** When the purchase entered its current status. */
  readonly statusChangedAt: string;
  /** The last event that was not the scheduler's (marking the link inactive, expiring). */
  readonly lastActivityAt: string;
  /** Events applied so far: the stream version, and the `sequence` of the latest status event. */
  readonly version: number;
}

export type PurchaseState = NoPurchase | Purchase;

export function initialState(): PurchaseState {
  return { exists: false };
}

// Inactivity is not activity: these must not reset the clock that led to them.
const schedulerEventTypes: ReadonlySet<PurchaseEventType> = new Set([eventTypeOfCommand.MarkLinkInactive, eventTypeOfCommand.Expire]);

/** Folds one event into the state. A stream that does not start with PurchaseOpened, or opens twice, is corrupt. */
export function evolve(state: PurchaseState, event: PurchaseEvent): PurchaseState {
  const { status, occurredAt } = event.data;
  if (event.type === 'PurchaseOpened') {
    if (state.exists) throw new Error(`Corrupt stream: purchase ${state.purchaseId} opened twice`);
    const { purchaseId, partnerId, course, student } = event.data;
    return {
      exists: true,
      purchaseId,
      partnerId,
      course: { ...course },
      student: { ...student },
      status,
      openedAt: occurredAt,
      statusChangedAt: occurredAt,
      lastActivityAt: occurredAt,
      version: 1,
    };
  }
  if (!state.exists) throw new Error(`Corrupt stream: ${event.type} before PurchaseOpened`);
  return {
    ...state,
    status,
    statusChangedAt: occurredAt,
    lastActivityAt: schedulerEventTypes.has(event.type) ? state.lastActivityAt : occurredAt,
    version: state.version + 1,
  };
}

/** Folds a whole stream. */
export function foldPurchase(events: readonly PurchaseEvent[], state: PurchaseState = initialState()): PurchaseState {
  return events.reduce(evolve, state);
}
