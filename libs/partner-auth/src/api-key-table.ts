import { timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecordV1 } from '@gancho/contracts';
import { displayPrefixOf, hashApiKey, looksLikeApiKey } from './api-key';

export interface AuthenticatedKey {
  keyId: string;
  partnerId: string;
  /** RFC 3339 for a key that expires (a portal session), else null. */
  expiresAt: string | null;
}

export type KeyLookup = { outcome: 'valid'; key: AuthenticatedKey } | { outcome: 'revoked'; key: AuthenticatedKey } | { outcome: 'expired'; key: AuthenticatedKey } | { outcome: 'unknown' };

/** How long an expired key is still told apart ("expired" rather than "unknown") before it is forgotten. */
export const expiredKeyRetentionMs = 24 * 60 * 60 * 1000;

interface Entry {
  keyId: string;
  partnerId: string;
  hash: Buffer;
  displayPrefix: string;
  revoked: boolean;
  expiresAt: string | null;
  expiresAtMs: number;
}

/**
 * The API keys every service checks partners against, in memory, built from
 * the compacted `subscriptions.api-keys.v1` topic. Entries are found by their
 * display prefix (public), and the presented key's hash is compared with each
 * candidate's in constant time, so timing tells nothing about the hash.
 */
export class ApiKeyTable {
  private readonly byId = new Map<string, Entry>();
  private readonly byPrefix = new Map<string, Entry[]>();

  get size(): number {
    return this.byId.size;
  }

  /**
   * Adds or replaces the record of a key (a later record of the same key wins,
   * as in the topic). A key that expired more than a day before `now` is not
   * kept: portal sessions pile up on the topic, and none can come back.
   */
  apply(record: ApiKeyRecordV1, now: number = Date.now()): void {
    this.remove(record.key_id);
    const expiresAt = record.expires_at ?? null;
    const expiresAtMs = expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(expiresAt);
    if (expiresAtMs + expiredKeyRetentionMs < now) return;
    const entry: Entry = {
      keyId: record.key_id,
      partnerId: record.partner_id,
      hash: Buffer.from(record.key_hash, 'hex'),
      displayPrefix: record.display_prefix,
      revoked: record.revoked,
      expiresAt,
      expiresAtMs,
    };
    this.byId.set(entry.keyId, entry);
    this.byPrefix.set(entry.displayPrefix, [...(this.byPrefix.get(entry.displayPrefix) ?? []), entry]);
  }

  /** Forgets a key (a tombstone on the topic). */
  remove(keyId: string): void {
    const entry = this.byId.get(keyId);
    if (!entry) return;
    this.byId.delete(keyId);
    const rest = (this.byPrefix.get(entry.displayPrefix) ?? []).filter((e) => e !== entry);
    if (rest.length > 0) this.byPrefix.set(entry.displayPrefix, rest);
    else this.byPrefix.delete(entry.displayPrefix);
  }

  /** Forgets keys that expired more than a day before `now`; returns how many. */
  sweepExpired(now: number = Date.now()): number {
    let removed = 0;
    for (const entry of [...this.byId.values()]) {
      if (entry.expiresAtMs + expiredKeyRetentionMs < now) {
        this.remove(entry.keyId);
        removed++;
      }
    }
    return removed;
  }

  lookup(presented: string, now: number = Date.now()): KeyLookup {
    if (!looksLikeApiKey(presented)) return { outcome: 'unknown' };
    const hash = Buffer.from(hashApiKey(presented), 'hex');
    let found: Entry | undefined;
    // Every candidate is compared, with no early exit.
    for (const candidate of this.byPrefix.get(displayPrefixOf(presented)) ?? []) {
      if (timingSafeEqual(candidate.hash, hash)) found = candidate;
    }
    if (!found) return { outcome: 'unknown' };
    const key = { keyId: found.keyId, partnerId: found.partnerId, expiresAt: found.expiresAt };
    if (found.revoked) return { outcome: 'revoked', key };
    return now >= found.expiresAtMs ? { outcome: 'expired', key } : { outcome: 'valid', key };
  }
}
