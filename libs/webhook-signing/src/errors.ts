/**
 * Why a secret, a signature or a verification was refused. Each error has a
 * stable `code`; messages never contain secret material.
 */
export class InvalidSigningSecretError extends Error {
  readonly code = 'INVALID_SIGNING_SECRET' as const;

  constructor(readonly problem: string) {
    super(`Invalid signing secret: ${problem}`);
    this.name = 'InvalidSigningSecretError';
  }
}

/** A message id that cannot go into a header (empty, or with whitespace or control characters). */
export class InvalidWebhookIdError extends Error {
  readonly code = 'INVALID_WEBHOOK_ID' as const;

  constructor(readonly problem: string) {
    super(`Invalid webhook id: ${problem}`);
    this.name = 'InvalidWebhookIdError';
  }
}

/** A required header is absent, or not in the form Standard Webhooks defines. */
export class WebhookHeadersMissingError extends Error {
  readonly code = 'WEBHOOK_HEADERS_MISSING' as const;

  constructor(readonly headers: readonly string[]) {
    super(`Missing or malformed webhook headers: ${headers.join(', ')}`);
    this.name = 'WebhookHeadersMissingError';
  }
}

export class WebhookTimestampOutOfToleranceError extends Error {
  readonly code = 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' as const;

  constructor(
    readonly timestamp: Date,
    readonly now: Date,
    readonly toleranceSeconds: number,
  ) {
    const direction = timestamp.getTime() < now.getTime() ? 'too old' : 'too new';
    super(`Webhook timestamp ${timestamp.toISOString()} is ${direction} (now ${now.toISOString()}, tolerance ${toleranceSeconds}s)`);
    this.name = 'WebhookTimestampOutOfToleranceError';
  }
}

/** No `v1` signature in the header matches any of the secrets. */
export class WebhookSignatureMismatchError extends Error {
  readonly code = 'WEBHOOK_SIGNATURE_MISMATCH' as const;

  constructor() {
    super('No webhook signature matches');
    this.name = 'WebhookSignatureMismatchError';
  }
}

export type WebhookVerificationError = WebhookHeadersMissingError | WebhookTimestampOutOfToleranceError | WebhookSignatureMismatchError;

export type WebhookSigningError = InvalidSigningSecretError | InvalidWebhookIdError | WebhookVerificationError;
export type WebhookSigningErrorCode = WebhookSigningError['code'];

export function isWebhookSigningError(error: unknown): error is WebhookSigningError {
  return (
    error instanceof InvalidSigningSecretError ||
    error instanceof InvalidWebhookIdError ||
    error instanceof WebhookHeadersMissingError ||
    error instanceof WebhookTimestampOutOfToleranceError ||
    error instanceof WebhookSignatureMismatchError
  );
}
