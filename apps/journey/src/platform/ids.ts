import { randomBytes } from 'node:crypto';

/**
 * `pur_` + 12 hex digits of milliseconds + 20 random hex digits: unique, and
 * sortable by creation time, which keeps cursor pagination cheap and stable.
 */
export function newPurchaseId(now: Date): string {
  return `pur_${now.getTime().toString(16).padStart(12, '0')}${randomBytes(10).toString('hex')}`;
}

export const purchaseIdPattern = /^pur_[0-9a-f]{32}$/;
