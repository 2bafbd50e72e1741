import { randomBytes } from 'node:crypto';

/** A name no other test (or earlier run) uses: for topics, consumer groups, ids. */
export function uniqueName(prefix: string): string {
  return `${prefix}.${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}
