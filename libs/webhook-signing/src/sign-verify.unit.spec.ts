import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { InvalidSigningSecretError, InvalidWebhookIdError, WebhookHeadersMissingError, WebhookSignatureMismatchError, WebhookTimestampOutOfToleranceError, isWebhookSigningError } from './errors';
import { generateSecret } from './secret';
import { signWebhook, type WebhookHeaders } from './sign';
import { verifyWebhook, type IncomingHeaders } from './verify';

// Scenarios:
// - Known answer: the example of the Standard Webhooks specification.
// - Our signatures verify with the public standardwebhooks and svix libraries (both header styles for svix),
//   with one secret and, during a rotation, with either the old or the new one.
// - Tampering with the body, id or timestamp makes every verifier refuse.
// - Signatures made by standardwebhooks verify with ours.
// - verifyWebhook: timestamp tolerance both ways, missing headers, header case and arrays, other signature versions.
//
// The public libraries check the timestamp against the real clock, so the cases that use them sign at Date.now().

const fixedBytes = (seed: number) => (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (seed * 31 + i * 17) % 256));
const oldSecret = generateSecret(fixedBytes(1));
const newSecret = generateSecret(fixedBytes(2));
const strangerSecret = generateSecret(fixedBytes(3));
const id = 'msg_2k9x7d4mqv8b1r3t6y0w5z2c4n';
const body = JSON.stringify({ type: 'purchase.waiting_payment', timestamp: '2026-11-27T19:28:47.123Z', data: { sequence: 7 } });

/** Now, to the millisecond, for the libraries that read the real clock. */
const realNow = (): Date => new Date();

function errorOf(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

function toSvixHeaders(headers: WebhookHeaders): Record<string, string> {
  return {
    'svix-id': headers['webhook-id'],
    'svix-timestamp': headers['webhook-timestamp'],
    'svix-signature': headers['webhook-signature'],
  };
}

describe('signWebhook', () => {
  it('matches the example of the Standard Webhooks specification', () => {
    const headers = signWebhook({
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: new Date(1614265330 * 1000),
      body: '{"test": 2432232314}',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    });
    expect(headers).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it('writes the timestamp in whole unix seconds, rounding down', () => {
    const headers = signWebhook({ id, timestamp: new Date('2026-11-27T19:28:47.999Z'), body, secrets: [oldSecret] });
    expect(headers['webhook-timestamp']).toBe(String(Date.parse('2026-11-27T19:28:47Z') / 1000));
  });

  it('sends one v1 signature per secret, space-separated, and one for a secret given twice', () => {
    const timestamp = new Date('2026-11-27T19:28:47Z');
    const rotating = signWebhook({ id, timestamp, body, secrets: [oldSecret, newSecret] });
    const single = (secret: string) => signWebhook({ id, timestamp, body, secrets: [secret] })['webhook-signature'];
    expect(rotating['webhook-signature']).toBe(`${single(oldSecret)} ${single(newSecret)}`);
    expect(rotating['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
    expect(signWebhook({ id, timestamp, body, secrets: [oldSecret, oldSecret] })['webhook-signature']).toBe(single(oldSecret));
  });

  it.each([
    ['no secrets', { secrets: [] as string[] }, InvalidSigningSecretError],
    ['an invalid secret', { secrets: ['whsec_c2hvcnQ='] }, InvalidSigningSecretError],
    ['an empty id', { id: '' }, InvalidWebhookIdError],
    ['an id with a space', { id: 'msg 1' }, InvalidWebhookIdError],
    ['an id with a line break', { id: 'msg_1\r\nx-evil: 1' }, InvalidWebhookIdError],
  ])('refuses %s', (_case, override, errorClass) => {
    const input = { id, timestamp: new Date('2026-11-27T19:28:47Z'), body, secrets: [oldSecret], ...override };
    const error = errorOf(() => signWebhook(input));
    expect(error).toBeInstanceOf(errorClass);
    expect(isWebhookSigningError(error)).toBe(true);
  });

  it('refuses an invalid date', () => {
    expect(() => signWebhook({ id, timestamp: new Date(Number.NaN), body, secrets: [oldSecret] })).toThrow(RangeError);
  });
});

describe('interoperability with the public libraries', () => {
  const verifiers = [
    ['standardwebhooks', (secret: string, payload: string, headers: WebhookHeaders) => new StandardWebhook(secret).verify(payload, headers)],
    ['svix (webhook-* headers)', (secret: string, payload: string, headers: WebhookHeaders) => new SvixWebhook(secret).verify(payload, headers)],
    ['svix (svix-* headers)', (secret: string, payload: string, headers: WebhookHeaders) => new SvixWebhook(secret).verify(payload, toSvixHeaders(headers))],
  ] as const;

  describe.each(verifiers)('%s', (_name, verify) => {
    it('verifies our signature and returns the parsed body', () => {
      const headers = signWebhook({ id, timestamp: realNow(), body, secrets: [newSecret] });
      expect(verify(newSecret, body, headers)).toEqual(JSON.parse(body));
    });

    it('during a rotation, verifies with the old secret and with the new one, not with another', () => {
      const headers = signWebhook({ id, timestamp: realNow(), body, secrets: [oldSecret, newSecret] });
      expect(verify(oldSecret, body, headers)).toEqual(JSON.parse(body));
      expect(verify(newSecret, body, headers)).toEqual(JSON.parse(body));
      expect(() => verify(strangerSecret, body, headers)).toThrow(/No matching signature/);
    });

    it.each([
      ['the body', (h: WebhookHeaders) => ({ headers: h, payload: body.replace('7', '8') })],
      ['the id', (h: WebhookHeaders) => ({ headers: { ...h, 'webhook-id': `${h['webhook-id']}x` }, payload: body })],
      ['the timestamp', (h: WebhookHeaders) => ({ headers: { ...h, 'webhook-timestamp': String(Number(h['webhook-timestamp']) - 1) }, payload: body })],
    ])('refuses a message whose %s was changed', (_part, tamper) => {
      const signed = signWebhook({ id, timestamp: realNow(), body, secrets: [oldSecret, newSecret] });
      const { headers, payload } = tamper(signed);
      expect(() => verify(newSecret, payload, headers)).toThrow(/No matching signature/);
      expect(() => verifyWebhook({ headers, body: payload, secrets: [newSecret], now: realNow() })).toThrow(WebhookSignatureMismatchError);
    });
  });

  it('verifies, with ours, a signature made by standardwebhooks', () => {
    const timestamp = realNow();
    const signature = new StandardWebhook(newSecret).sign(id, timestamp, body);
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': signature };
    expect(verifyWebhook({ headers, body, secrets: [newSecret], now: timestamp })).toEqual({
      id,
      timestamp: new Date(Math.floor(timestamp.getTime() / 1000) * 1000),
    });
    expect(() => verifyWebhook({ headers, body, secrets: [oldSecret], now: timestamp })).toThrow(WebhookSignatureMismatchError);
  });

  it('verifies, with ours, a rotation signed by standardwebhooks with either secret', () => {
    const timestamp = realNow();
    const signatures = [oldSecret, newSecret].map((secret) => new StandardWebhook(secret).sign(id, timestamp, body)).join(' ');
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': signatures };
    for (const secret of [oldSecret, newSecret]) {
      expect(verifyWebhook({ headers, body, secrets: [secret], now: timestamp }).id).toBe(id);
    }
  });
});

describe('verifyWebhook', () => {
  const signedAt = new Date('2026-11-27T19:28:47Z');
  const seconds = (n: number) => new Date(signedAt.getTime() + n * 1000);
  const signed = signWebhook({ id, timestamp: signedAt, body, secrets: [newSecret] });

  it('given a signed message, when verified with its secret, then it returns its id and timestamp', () => {
    expect(verifyWebhook({ headers: signed, body, secrets: [newSecret], now: signedAt })).toEqual({ id, timestamp: signedAt });
  });

  it('accepts the raw body as a Buffer', () => {
    expect(verifyWebhook({ headers: signed, body: Buffer.from(body), secrets: [newSecret], now: signedAt }).id).toBe(id);
  });

  it('accepts when any of its secrets matches (a receiver in the middle of a rotation)', () => {
    expect(verifyWebhook({ headers: signed, body, secrets: [oldSecret, newSecret], now: signedAt }).id).toBe(id);
    expect(() => verifyWebhook({ headers: signed, body, secrets: [oldSecret, strangerSecret], now: signedAt })).toThrow(WebhookSignatureMismatchError);
  });

  it.each([
    ['exactly at the tolerance in the past', 300, 300, true],
    ['one second past the tolerance in the past', 301, 300, false],
    ['exactly at the tolerance in the future', -300, 300, true],
    ['one second past the tolerance in the future', -301, 300, false],
    ['within a custom tolerance', 59, 60, true],
    ['outside a custom tolerance', 61, 60, false],
    ['far in the past', 86_400, 300, false],
    ['with zero tolerance, the same second', 0.999, 0, true],
  ])('when now is %s (signed %ss earlier, tolerance %ss), then accepted: %s', (_case, offset, toleranceSeconds, accepted) => {
    const verify = () => verifyWebhook({ headers: signed, body, secrets: [newSecret], now: seconds(offset), toleranceSeconds });
    if (accepted) expect(verify().id).toBe(id);
    else {
      const error = errorOf(verify);
      expect(error).toBeInstanceOf(WebhookTimestampOutOfToleranceError);
      expect((error as WebhookTimestampOutOfToleranceError).code).toBe('WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE');
      expect((error as Error).message).toContain(offset > 0 ? 'too old' : 'too new');
    }
  });

  it('uses a default tolerance of five minutes', () => {
    expect(verifyWebhook({ headers: signed, body, secrets: [newSecret], now: seconds(300) }).id).toBe(id);
    expect(() => verifyWebhook({ headers: signed, body, secrets: [newSecret], now: seconds(301) })).toThrow(WebhookTimestampOutOfToleranceError);
  });

  const without = (name: keyof WebhookHeaders): IncomingHeaders => ({ ...signed, [name]: undefined });
  it.each([
    ['webhook-id missing', without('webhook-id'), ['webhook-id']],
    ['webhook-timestamp missing', without('webhook-timestamp'), ['webhook-timestamp']],
    ['webhook-signature missing', without('webhook-signature'), ['webhook-signature']],
    ['webhook-signature empty', { ...signed, 'webhook-signature': '  ' }, ['webhook-signature']],
    ['webhook-timestamp not a number', { ...signed, 'webhook-timestamp': '2026-11-27T19:28:47Z' }, ['webhook-timestamp']],
    ['webhook-timestamp negative', { ...signed, 'webhook-timestamp': '-5' }, ['webhook-timestamp']],
    ['every header missing', {}, ['webhook-id', 'webhook-timestamp', 'webhook-signature']],
  ])('refuses a message with %s as WEBHOOK_HEADERS_MISSING', (_case, headers, names) => {
    const error = errorOf(() => verifyWebhook({ headers, body, secrets: [newSecret], now: signedAt }));
    expect(error).toBeInstanceOf(WebhookHeadersMissingError);
    expect((error as WebhookHeadersMissingError).code).toBe('WEBHOOK_HEADERS_MISSING');
    expect((error as WebhookHeadersMissingError).headers).toEqual(names);
  });

  it('reads header names in any case, and repeated headers as Node gives them', () => {
    const headers = {
      'Webhook-Id': signed['webhook-id'],
      'WEBHOOK-TIMESTAMP': [signed['webhook-timestamp']],
      'webhook-signature': [`v1,${Buffer.alloc(32).toString('base64')}`, signed['webhook-signature']],
    };
    expect(verifyWebhook({ headers, body, secrets: [newSecret], now: signedAt }).id).toBe(id);
  });

  it.each([
    ['another version only', signed['webhook-signature'].replace('v1,', 'v1a,')],
    ['a signature of the wrong length', 'v1,c2hvcnQ='],
    ['a version with no signature', 'v1'],
    ['garbage', 'not-a-signature'],
    ['the signature of another secret', signWebhook({ id, timestamp: signedAt, body, secrets: [strangerSecret] })['webhook-signature']],
  ])('refuses %s as WEBHOOK_SIGNATURE_MISMATCH', (_case, signature) => {
    const error = errorOf(() => verifyWebhook({ headers: { ...signed, 'webhook-signature': signature }, body, secrets: [newSecret], now: signedAt }));
    expect(error).toBeInstanceOf(WebhookSignatureMismatchError);
    expect((error as WebhookSignatureMismatchError).code).toBe('WEBHOOK_SIGNATURE_MISMATCH');
  });

  it('accepts a matching v1 signature among other entries', () => {
    const signature = `v1a,abc v1,${Buffer.alloc(32).toString('base64')} ${signed['webhook-signature']}`;
    expect(verifyWebhook({ headers: { ...signed, 'webhook-signature': signature }, body, secrets: [newSecret], now: signedAt }).id).toBe(id);
  });

  it('refuses to verify with no secrets', () => {
    expect(() => verifyWebhook({ headers: signed, body, secrets: [], now: signedAt })).toThrow(InvalidSigningSecretError);
  });
});
