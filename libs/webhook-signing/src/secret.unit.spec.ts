import { randomBytes } from 'node:crypto';
import { InvalidSigningSecretError } from './errors';
import { generateSecret, isValidSecret, parseSecret } from './secret';

// Scenarios:
// - A generated secret is whsec_ + base64 of 32 bytes from the injected random source, and parses back to them.
// - parseSecret accepts whsec_ + canonical base64 of 24–64 bytes and refuses anything else with INVALID_SIGNING_SECRET.
// - A refusal never repeats the secret.

const secretOf = (bytes: number, fill = 7): string => `whsec_${Buffer.alloc(bytes, fill).toString('base64')}`;

describe('generateSecret', () => {
  it('given a random source, when generating, then it is whsec_ and the base64 of 32 bytes drawn from it', () => {
    const drawn = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7));
    const asked: number[] = [];
    const secret = generateSecret((n) => {
      asked.push(n);
      return drawn;
    });
    expect(asked).toEqual([32]);
    expect(secret).toBe(`whsec_${drawn.toString('base64')}`);
    expect(parseSecret(secret)).toEqual(drawn);
  });

  it('gives a different valid secret on every call with a real random source', () => {
    const secrets = new Set(Array.from({ length: 100 }, () => generateSecret(randomBytes)));
    expect(secrets.size).toBe(100);
    for (const secret of secrets) expect(isValidSecret(secret)).toBe(true);
  });

  it('refuses a random source that gives the wrong number of bytes', () => {
    expect(() => generateSecret(() => Buffer.alloc(16))).toThrow(InvalidSigningSecretError);
  });
});

describe('parseSecret', () => {
  it.each([24, 32, 48, 64])('accepts whsec_ and the base64 of %i bytes', (bytes) => {
    expect(parseSecret(secretOf(bytes))).toEqual(Buffer.alloc(bytes, 7));
  });

  it.each([
    ['no prefix', Buffer.alloc(32, 7).toString('base64')],
    ['another prefix', `whsek_${Buffer.alloc(32, 7).toString('base64')}`],
    ['upper-case prefix', `WHSEC_${Buffer.alloc(32, 7).toString('base64')}`],
    ['nothing after the prefix', 'whsec_'],
    ['23 bytes', secretOf(23)],
    ['65 bytes', secretOf(65)],
    ['characters outside base64', `whsec_${Buffer.alloc(32, 7).toString('base64').slice(0, -4)}ab!=`],
    ['url-safe base64', `whsec_${Buffer.alloc(32, 0xfb).toString('base64url')}`],
    ['missing padding', secretOf(32).replace(/=+$/, '')],
    ['whitespace', ` ${secretOf(32)}`],
    ['an empty string', ''],
  ])('refuses %s with INVALID_SIGNING_SECRET', (_case, secret) => {
    expect(() => parseSecret(secret)).toThrow(InvalidSigningSecretError);
    expect(isValidSecret(secret)).toBe(false);
    try {
      parseSecret(secret);
    } catch (error) {
      expect((error as InvalidSigningSecretError).code).toBe('INVALID_SIGNING_SECRET');
    }
  });

  it('never puts the secret into its error message', () => {
    const secret = secretOf(23, 0x5a);
    const encoded = secret.slice('whsec_'.length);
    expect(() => parseSecret(secret)).toThrow(/24 to 64 bytes, holds 23/);
    try {
      parseSecret(secret);
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(encoded);
      expect(JSON.stringify(error)).not.toContain(encoded);
    }
  });
});
