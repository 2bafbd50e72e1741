import { createHash, randomBytes } from 'node:crypto';
import { apiKeyDisplayChars, apiKeyPrefix } from '@gancho/contracts';

const randomPart = /^[A-Za-z0-9_-]{43,128}$/;

/** Lower-case hex SHA-256 of a presented key: what is stored and published instead of the key. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** `gk_live_` and the first characters of the random part: safe to show, and how the table finds candidates. */
export function displayPrefixOf(key: string): string {
  return key.slice(0, apiKeyPrefix.length + apiKeyDisplayChars);
}

/** Whether a string has the shape of a partner API key (`gk_live_` + base64url of ≥ 32 bytes). */
export function looksLikeApiKey(key: string): boolean {
  return key.startsWith(apiKeyPrefix) && randomPart.test(key.slice(apiKeyPrefix.length));
}

export interface NewApiKey {
  /** Shown to the partner once, never stored. */
  key: string;
  keyHash: string;
  displayPrefix: string;
}

/** A new key: `gk_live_` + base64url of 32 random bytes. */
export function generateApiKey(): NewApiKey {
  const key = `${apiKeyPrefix}${randomBytes(32).toString('base64url')}`;
  return { key, keyHash: hashApiKey(key), displayPrefix: displayPrefixOf(key) };
}
