/**
 * An API key of a partner as published on `subscriptions.api-keys.v1`
 * (compacted, key = `key_id`). The key itself is never published or stored:
 * only its SHA-256, so a service can check a presented key without asking
 * subscriptions. Revocation is a new record with `revoked: true`.
 */
export interface ApiKeyRecordV1 {
  key_id: string;
  partner_id: string;
  /** Lower-case hex SHA-256 of the whole key as the partner sends it (`gk_live_…`). */
  key_hash: string;
  /** The key's first characters (`gk_live_` + 6), shown in listings and used to find candidates. */
  display_prefix: string;
  revoked: boolean;
  /** RFC 3339. */
  created_at: string;
  /** RFC 3339; null while the key is valid. */
  revoked_at: string | null;
  /**
   * RFC 3339; absent or null for a key that never expires. Portal sessions
   * (the console embedded in a partner's dashboard) are keys that expire
   * within an hour; every service refuses them after this instant.
   */
  expires_at?: string | null;
}

/** Every partner API key starts with this, so a leaked one is easy to recognise (and to scan for). */
export const apiKeyPrefix = 'gk_live_';
/** Characters of the random part included in `display_prefix`. */
export const apiKeyDisplayChars = 6;
