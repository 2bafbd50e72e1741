/** Why a piece of delivery configuration or input was refused. Each has a stable `code`. */
export class InvalidRetryScheduleError extends Error {
  readonly code = 'INVALID_RETRY_SCHEDULE' as const;

  constructor(readonly problem: string) {
    super(`Invalid retry schedule: ${problem}`);
    this.name = 'InvalidRetryScheduleError';
  }
}

/** A numeric setting (rate limit, breaker threshold, jitter, bounds…) outside its range. */
export class InvalidDeliverySettingError extends Error {
  readonly code = 'INVALID_DELIVERY_SETTING' as const;

  constructor(
    readonly setting: string,
    readonly problem: string,
  ) {
    super(`Invalid ${setting}: ${problem}`);
    this.name = 'InvalidDeliverySettingError';
  }
}

/** The webhook type asked for is not the one of the status event. */
export class WebhookTypeMismatchError extends Error {
  readonly code = 'WEBHOOK_TYPE_MISMATCH' as const;

  constructor(
    readonly type: string,
    readonly expectedType: string,
  ) {
    super(`Webhook type ${type} does not match the status event, whose type is ${expectedType}`);
    this.name = 'WebhookTypeMismatchError';
  }
}

export type DeliveryDomainError = InvalidRetryScheduleError | InvalidDeliverySettingError | WebhookTypeMismatchError;
export type DeliveryDomainErrorCode = DeliveryDomainError['code'];

export function isDeliveryDomainError(error: unknown): error is DeliveryDomainError {
  return error instanceof InvalidRetryScheduleError || error instanceof InvalidDeliverySettingError || error instanceof WebhookTypeMismatchError;
}

/** Throws INVALID_DELIVERY_SETTING unless `value` is a finite number within [min, max]. */
export function requireInRange(setting: string, value: number, min: number, max = Number.POSITIVE_INFINITY): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    const range = max === Number.POSITIVE_INFINITY ? `≥ ${min}` : `within [${min}, ${max}]`;
    throw new InvalidDeliverySettingError(setting, `must be a number ${range}, got ${value}`);
  }
  return value;
}
