// The journey API commands that walk a new purchase (not_logged) to
// made_effective, with the status each one leads to: eleven status changes.
// Shared by the platform e2e, the bench's load and the reliability load.
export interface JourneyStep {
  /** `POST /purchases/{id}/<path>`. */
  path: string;
  body?: unknown;
  /** The purchase's status after the command. */
  status: string;
}

export const journeySteps: readonly JourneyStep[] = [
  { path: 'log-in', status: 'logged' },
  { path: 'create-shopping-cart', status: 'shopping_cart_created' },
  { path: 'submit-basic-info', status: 'basic_info_review' },
  { path: 'review-basic-info', body: { decision: 'approved' }, status: 'document_info_incomplete' },
  { path: 'submit-documents', status: 'document_info_review' },
  { path: 'review-documents', body: { decision: 'approved' }, status: 'analysis' },
  { path: 'approve-credit', status: 'approved_by_provi' },
  { path: 'send-for-signature', status: 'waiting_signature' },
  { path: 'sign-contract', status: 'waiting_payment' },
  { path: 'confirm-payment', status: 'approved' },
  { path: 'make-effective', status: 'made_effective' },
];
