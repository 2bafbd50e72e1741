import { timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecordV1 } from '@gancho/contracts';
import { displayPrefixOf, hashApiKey, looksLikeApiKey } from './api-key';

export interface AuthenticatedKey {
  keyId: string;
  partnerId: string;
}

export type KeyLookup = { outcome: 'valid'; key: AuthenticatedKey } | { outcome: 'revoked'; key: AuthenticatedKey } | { outcome: 'unknown' };

interface Entry {
  keyId: string;
  partnerId: string;
  hash: Buffer;
  displayPrefix: string;
  revoked: boolean;
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

  /** Adds or replaces the record of a key (a later record of the same key wins, as in the topic). */
  apply(record: ApiKeyRecordV1): void {
    this.remove(record.key_id);
    const entry: Entry = {
      keyId: record.key_id,
      partnerId: record.partner_id,
      hash: Buffer.from(record.key_hash, 'hex'),
      displayPrefix: record.display_prefix,
      revoked: record.revoked,
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

  lookup(presented: string): KeyLookup {
    if (!looksLikeApiKey(presented)) return { outcome: 'unknown' };
    const hash = Buffer.from(hashApiKey(presented), 'hex');
    let found: Entry | undefined;
    // Every candidate is compared, with no early exit.
    for (const candidate of this.byPrefix.get(displayPrefixOf(presented)) ?? []) {
      if (timingSafeEqual(candidate.hash, hash)) found = candidate;
    }
    if (!found) return { outcome: 'unknown' };
    const key = { keyId: found.keyId, partnerId: found.partnerId };
    return found.revoked ? { outcome: 'revoked', key } : { outcome: 'valid', key };
  }
}
