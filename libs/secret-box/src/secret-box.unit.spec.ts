import { randomBytes } from 'node:crypto';
import { parseSecretBoxKeys, SecretBox, SecretBoxError } from './secret-box';

const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');

describe('SecretBox', () => {
  it('seals as v1.<keyId>.<payload> and opens what it sealed', () => {
    const box = SecretBox.fromConfig(`a1:${keyA}`);
    const sealed = box.seal('whsec_c2VjcmV0', 'endpoint:ep_1');
    expect(sealed).toMatch(/^v1\.a1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('c2VjcmV0');
    expect(box.open(sealed, 'endpoint:ep_1')).toBe('whsec_c2VjcmV0');
    expect(SecretBox.keyIdOf(sealed)).toBe('a1');
  });

  it('uses a fresh IV every time', () => {
    const box = SecretBox.fromConfig(keyA);
    expect(box.seal('same')).not.toBe(box.seal('same'));
  });

  it('refuses a value tampered with, of another context, or re-labelled with another key id', () => {
    const box = SecretBox.fromConfig(`a1:${keyA},b1:${keyB}`);
    const sealed = box.seal('top secret', 'endpoint:ep_1');
    const payload = sealed.split('.')[2] as string;
    const flipped = Buffer.from(payload, 'base64url');
    flipped[14] = (flipped[14] as number) ^ 1;
    expect(() => box.open(`v1.a1.${flipped.toString('base64url')}`, 'endpoint:ep_1')).toThrow(SecretBoxError);
    expect(() => box.open(sealed, 'endpoint:ep_2')).toThrow(SecretBoxError);
    expect(() => box.open(`v1.b1.${payload}`, 'endpoint:ep_1')).toThrow(SecretBoxError);
    expect(() => box.open('v1.a1.AAAA', 'endpoint:ep_1')).toThrow('truncated');
    expect(() => box.open('whsec_plain')).toThrow('not a sealed value');
  });

  it('rotates keys: the first key seals, every key opens, an unknown key id is named', () => {
    const old = SecretBox.fromConfig(`old:${keyA}`);
    const sealedOld = old.seal('s1');
    const rotated = SecretBox.fromConfig(`new:${keyB},old:${keyA}`);
    expect(rotated.currentKeyId).toBe('new');
    expect(rotated.open(sealedOld)).toBe('s1');
    expect(SecretBox.keyIdOf(rotated.seal('s2'))).toBe('new');
    const dropped = SecretBox.fromConfig(`new:${keyB}`);
    expect(() => dropped.open(sealedOld)).toThrow('key old, which is not configured');
  });

  it('derives a stable id for a bare key', () => {
    const [first] = parseSecretBoxKeys(keyA);
    const [again] = parseSecretBoxKeys(` ${keyA} `);
    expect(first?.id).toMatch(/^k[0-9a-f]{8}$/);
    expect(again?.id).toBe(first?.id);
  });

  it.each([
    ['', 'no encryption key'],
    ['bm90IDMyIGJ5dGVz', 'exactly 32 bytes'],
    ['not base64!', 'not base64'],
    [`bad id:${keyA}`, 'invalid id'],
    [`x:${keyA},x:${keyB}`, 'share an id'],
  ])('refuses the key configuration %j', (spec, message) => {
    expect(() => parseSecretBoxKeys(spec)).toThrow(message);
  });

  it('never echoes key material in errors', () => {
    expect.assertions(1);
    try {
      parseSecretBoxKeys(`${keyA.slice(0, 20)}`);
    } catch (error) {
      expect((error as Error).message).not.toContain(keyA.slice(0, 20));
    }
  });
});
