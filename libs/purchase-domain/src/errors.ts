import type { PurchaseStatus } from '@gancho/contracts';
import type { PurchaseCommandType, TransitionCommandType } from './purchase-commands';

/**
 * Why `decide` refused a command. Each has a stable `code`; the HTTP edge maps
 * codes to statuses in one table (ILLEGAL_TRANSITION and
 * PURCHASE_ALREADY_EXISTS 409, PURCHASE_NOT_FOUND 404, INVALID_COMMAND 400).
 */
export class IllegalTransitionError extends Error {
  readonly code = 'ILLEGAL_TRANSITION' as const;

  constructor(
    readonly currentStatus: PurchaseStatus,
    readonly command: PurchaseCommandType,
    /** What the purchase accepts in its current status, to help the caller. */
    readonly allowedCommands: readonly TransitionCommandType[] = [],
  ) {
    const allowed = allowedCommands.length > 0 ? allowedCommands.join(', ') : 'none';
    super(`${command} is not allowed for a purchase in status ${currentStatus} (allowed: ${allowed})`);
    this.name = 'IllegalTransitionError';
  }
}

export class PurchaseNotFoundError extends Error {
  readonly code = 'PURCHASE_NOT_FOUND' as const;

  constructor(
    readonly purchaseId: string,
    readonly command: PurchaseCommandType,
  ) {
    super(`Purchase ${purchaseId} does not exist (command ${command})`);
    this.name = 'PurchaseNotFoundError';
  }
}

export class PurchaseAlreadyExistsError extends Error {
  readonly code = 'PURCHASE_ALREADY_EXISTS' as const;

  constructor(
    readonly purchaseId: string,
    readonly currentStatus: PurchaseStatus,
  ) {
    super(`Purchase ${purchaseId} already exists (status ${currentStatus})`);
    this.name = 'PurchaseAlreadyExistsError';
  }
}

export class InvalidPurchaseCommandError extends Error {
  readonly code = 'INVALID_COMMAND' as const;

  constructor(
    readonly command: PurchaseCommandType,
    readonly problems: readonly string[],
  ) {
    super(`Invalid ${command}: ${problems.join('; ')}`);
    this.name = 'InvalidPurchaseCommandError';
  }
}

export type PurchaseDomainError = IllegalTransitionError | PurchaseNotFoundError | PurchaseAlreadyExistsError | InvalidPurchaseCommandError;
export type PurchaseErrorCode = PurchaseDomainError['code'];

export function isPurchaseDomainError(error: unknown): error is PurchaseDomainError {
  return error instanceof IllegalTransitionError || error instanceof PurchaseNotFoundError || error instanceof PurchaseAlreadyExistsError || error instanceof InvalidPurchaseCommandError;
}
