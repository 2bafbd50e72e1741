import { Topics, type ApiKeyRecordV1 } from '@gancho/contracts';
import { topicRecordValidator } from '@gancho/service-kit';
import { displayPrefixOf, generateApiKey, hashApiKey, looksLikeApiKey } from './api-key';
import { ApiKeyTable, expiredKeyRetentionMs } from './api-key-table';

function recordOf(key: string, overrides: Partial<ApiKeyRecordV1> = {}): ApiKeyRecordV1 {
  return {
    key_id: 'key_1',
    partner_id: 'ptn_1',
    key_hash: hashApiKey(key),
    display_prefix: displayPrefixOf(key),
    revoked: false,
    created_at: '2026-11-27T19:28:47.123Z',
    revoked_at: null,
    ...overrides,
  };
}

describe('API keys', () => {
  it('look like gk_live_ + base64url of 32 random bytes, with a short display prefix', () => {
    const { key, keyHash, displayPrefix } = generateApiKey();
    expect(key).toMatch(/^gk_live_[A-Za-z0-9_-]{43}$/);
    expect(keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(displayPrefix).toBe(key.slice(0, 14));
    expect(looksLikeApiKey(key)).toBe(true);
    expect(looksLikeApiKey('gk_live_short')).toBe(false);
    expect(looksLikeApiKey(`gk_test_${key.slice(8)}`)).toBe(false);
    expect(generateApiKey().key).not.toBe(key);
  });
});

describe('ApiKeyTable', () => {
  it('finds a valid key and its partner, and nothing for a key it does not hold', () => {
    const table = new ApiKeyTable();
    const { key } = generateApiKey();
    table.apply(recordOf(key));
    expect(table.lookup(key)).toEqual({ outcome: 'valid', key: { keyId: 'key_1', partnerId: 'ptn_1', expiresAt: null } });
    expect(table.lookup(generateApiKey().key)).toEqual({ outcome: 'unknown' });
    expect(table.lookup('not a key')).toEqual({ outcome: 'unknown' });
  });

  it('tells a revoked key apart, and a later record of the same key replaces the earlier', () => {
    const table = new ApiKeyTable();
    const { key } = generateApiKey();
    table.apply(recordOf(key));
    table.apply(recordOf(key, { revoked: true, revoked_at: '2026-11-28T00:00:00.000Z' }));
    expect(table.lookup(key)).toMatchObject({ outcome: 'revoked' });
    expect(table.size).toBe(1);
  });

  it('tells keys that share a display prefix apart by their hash', () => {
    const table = new ApiKeyTable();
    const a = generateApiKey().key;
    const b = `${a.slice(0, 14)}${generateApiKey().key.slice(14)}`;
    table.apply(recordOf(a, { key_id: 'key_a', partner_id: 'ptn_a' }));
    table.apply(recordOf(b, { key_id: 'key_b', partner_id: 'ptn_b' }));
    expect(table.lookup(a)).toMatchObject({ outcome: 'valid', key: { partnerId: 'ptn_a' } });
    expect(table.lookup(b)).toMatchObject({ outcome: 'valid', key: { partnerId: 'ptn_b' } });
    table.remove('key_a');
    expect(table.lookup(a)).toEqual({ outcome: 'unknown' });
    expect(table.lookup(b)).toMatchObject({ outcome: 'valid' });
  });
});

describe('ApiKeyTable and expiring keys (portal sessions)', () => {
  const expiresAt = '2026-11-28T00:15:00.000Z';
  const expiry = Date.parse(expiresAt);

  it('admits a key until its expires_at, then tells it expired (not unknown)', () => {
    const table = new ApiKeyTable();
    const { key } = generateApiKey();
    table.apply(recordOf(key, { expires_at: expiresAt }), expiry - 60_000);
    expect(table.lookup(key, expiry - 1)).toEqual({ outcome: 'valid', key: { keyId: 'key_1', partnerId: 'ptn_1', expiresAt } });
    expect(table.lookup(key, expiry)).toEqual({ outcome: 'expired', key: { keyId: 'key_1', partnerId: 'ptn_1', expiresAt } });
    // A revoked session says revoked, whatever its expiry.
    table.apply(recordOf(key, { expires_at: expiresAt, revoked: true, revoked_at: expiresAt }), expiry - 60_000);
    expect(table.lookup(key, expiry - 1)).toMatchObject({ outcome: 'revoked' });
  });

  it('forgets keys a day after they expired: not kept when read that late, and swept later', () => {
    const table = new ApiKeyTable();
    const stale = generateApiKey().key;
    table.apply(recordOf(stale, { key_id: 'key_stale', expires_at: expiresAt }), expiry + expiredKeyRetentionMs + 1);
    expect(table.size).toBe(0);
    const fresh = generateApiKey().key;
    const forever = generateApiKey().key;
    table.apply(recordOf(fresh, { key_id: 'key_fresh', expires_at: expiresAt }), expiry - 1);
    table.apply(recordOf(forever, { key_id: 'key_forever' }), expiry - 1);
    expect(table.sweepExpired(expiry + expiredKeyRetentionMs - 1)).toBe(0);
    expect(table.sweepExpired(expiry + expiredKeyRetentionMs + 1)).toBe(1);
    expect(table.lookup(fresh, expiry + expiredKeyRetentionMs + 2)).toEqual({ outcome: 'unknown' });
    expect(table.lookup(forever, expiry + expiredKeyRetentionMs + 2)).toMatchObject({ outcome: 'valid' });
  });

  it('reads expires_at as optional in the record contract, and refuses a malformed one', () => {
    const { key } = generateApiKey();
    // The directory checks each record against the topic registry's schema (api-key-directory.ts).
    const apiKeyRecordProblems = (record: ApiKeyRecordV1) => topicRecordValidator().valueProblems(Topics.apiKeys, record);
    expect(apiKeyRecordProblems(recordOf(key))).toEqual([]);
    expect(apiKeyRecordProblems(recordOf(key, { expires_at: null }))).toEqual([]);
    expect(apiKeyRecordProblems(recordOf(key, { expires_at: expiresAt }))).toEqual([]);
    expect(apiKeyRecordProblems(recordOf(key, { expires_at: 'tomorrow' }))).toContain('value/expires_at must match format "date-time"');
  });
});
