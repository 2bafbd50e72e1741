/**
 * Why a webhook was refused. Each error has a stable `code`; no message
 * contains secret material. Middleware answers every one of them with 401.
 */
export type WebhookVerificationErrorCode = 'WEBHOOK_HEADERS_MISSING' | 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' | 'WEBHOOK_SIGNATURE_MISMATCH' | 'WEBHOOK_BODY_INVALID';

export class WebhookVerificationError extends Error {
  constructor(
    readonly code: WebhookVerificationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** A secret that is not `whsec_` + base64 (or bare base64) of at least 16 bytes: a setup mistake, not a bad request. */
export class InvalidSecretError extends Error {
  readonly code = 'INVALID_SECRET' as const;

  constructor(problem: string) {
    super(`Invalid webhook secret: ${problem}`);
    this.name = 'InvalidSecretError';
  }
}

export function isWebhookVerificationError(error: unknown): error is WebhookVerificationError {
  return error instanceof WebhookVerificationError;
}
