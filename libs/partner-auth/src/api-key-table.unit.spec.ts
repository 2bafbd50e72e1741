import type { ApiKeyRecordV1 } from '@gancho/contracts';
import { displayPrefixOf, generateApiKey, hashApiKey, looksLikeApiKey } from './api-key';
import { ApiKeyTable } from './api-key-table';

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
    expect(table.lookup(key)).toEqual({ outcome: 'valid', key: { keyId: 'key_1', partnerId: 'ptn_1' } });
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
