import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** One AES-256 key and the id that sealed values name it by. */
export interface SecretBoxKey {
  id: string;
  key: Buffer;
}

export class SecretBoxError extends Error {
  readonly code = 'SECRET_BOX_ERROR';
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

const version = 'v1';
const ivBytes = 12;
const tagBytes = 16;
const keyIdPattern = /^[A-Za-z0-9_-]{1,32}$/;
const sealedPattern = /^v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)$/;

/**
 * Parses the key configuration: a comma-separated list whose FIRST key seals
 * and every key opens, so keys rotate without downtime (add the new key in
 * front, re-seal, later drop the old one). Each entry is `<id>:<base64 of 32
 * bytes>`, or the bare base64 (its id is then derived from the key, `k` + 8
 * hex digits of its SHA-256). Errors never echo key material.
 */
export function parseSecretBoxKeys(spec: string): SecretBoxKey[] {
  const entries = spec
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new SecretBoxError('no encryption key given');
  const keys = entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    const id = colon >= 0 ? entry.slice(0, colon) : undefined;
    const material = colon >= 0 ? entry.slice(colon + 1) : entry;
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(material)) throw new SecretBoxError(`key #${index + 1} is not base64`);
    const key = Buffer.from(material, 'base64');
    if (key.length !== 32) throw new SecretBoxError(`key #${index + 1} must be the base64 of exactly 32 bytes, not ${key.length}`);
    const keyId = id ?? `k${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
    if (!keyIdPattern.test(keyId)) throw new SecretBoxError(`key #${index + 1} has an invalid id (1–32 of A-Z a-z 0-9 _ -)`);
    return { id: keyId, key };
  });
  const ids = new Set(keys.map((k) => k.id));
  if (ids.size !== keys.length) throw new SecretBoxError('two keys share an id');
  return keys;
}

/**
 * AES-256-GCM sealing of small secrets (webhook signing secrets). The sealed
 * form is `v1.<keyId>.<base64url of iv | ciphertext | tag>`; the version and
 * key id are authenticated too, and so is the optional `context` (for example
 * `endpoint:ep_…`), so a sealed value copied onto another record does not open.
 */
export class SecretBox {
  private readonly sealing: SecretBoxKey;
  private readonly byId: ReadonlyMap<string, Buffer>;

  constructor(keys: readonly SecretBoxKey[]) {
    const [first] = keys;
    if (!first) throw new SecretBoxError('a secret box needs at least one key');
    for (const k of keys) {
      if (k.key.length !== 32) throw new SecretBoxError(`key ${k.id} must be 32 bytes`);
      if (!keyIdPattern.test(k.id)) throw new SecretBoxError(`invalid key id ${JSON.stringify(k.id)}`);
    }
    this.sealing = first;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  static fromConfig(spec: string): SecretBox {
    return new SecretBox(parseSecretBoxKeys(spec));
  }

  /** The id of the key that seals now. */
  get currentKeyId(): string {
    return this.sealing.id;
  }

  seal(plaintext: string, context = ''): string {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', this.sealing.key, iv, { authTagLength: tagBytes });
    cipher.setAAD(associatedData(this.sealing.id, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const payload = Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url');
    return `${version}.${this.sealing.id}.${payload}`;
  }

  /** Opens a sealed value; throws SecretBoxError if it is malformed, sealed under an unknown key, tampered with, or of another context. */
  open(sealed: string, context = ''): string {
    const match = sealedPattern.exec(sealed);
    if (!match) throw new SecretBoxError('not a sealed value (v1.<keyId>.<payload>)');
    const [, keyId = '', encoded = ''] = match;
    const key = this.byId.get(keyId);
    if (!key) throw new SecretBoxError(`sealed under key ${keyId}, which is not configured`);
    const payload = Buffer.from(encoded, 'base64url');
    if (payload.length < ivBytes + tagBytes) throw new SecretBoxError('sealed value is truncated');
    const iv = payload.subarray(0, ivBytes);
    const tag = payload.subarray(payload.length - tagBytes);
    const ciphertext = payload.subarray(ivBytes, payload.length - tagBytes);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
      decipher.setAAD(associatedData(keyId, context));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('sealed value does not open: tampered with, or sealed for another context');
    }
  }

  /** The key id a sealed value names (to find values still sealed under an old key). */
  static keyIdOf(sealed: string): string | undefined {
    return sealedPattern.exec(sealed)?.[1];
  }
}

function associatedData(keyId: string, context: string): Buffer {
  return Buffer.from(`${version}.${keyId}\n${context}`, 'utf8');
}
