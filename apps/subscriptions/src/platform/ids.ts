import { randomBytes } from 'node:crypto';

/**
 * `<prefix>_` + 12 hex digits of milliseconds + 20 random hex digits: unique,
 * and sortable by creation time, which keeps cursor pagination stable.
 */
export function newId(prefix: 'ptn' | 'ep' | 'key', now: Date): string {
  return `${prefix}_${now.getTime().toString(16).padStart(12, '0')}${randomBytes(10).toString('hex')}`;
}

export const idPattern = (prefix: 'ptn' | 'ep' | 'key') => new RegExp(`^${prefix}_[0-9a-f]{32}$`);
