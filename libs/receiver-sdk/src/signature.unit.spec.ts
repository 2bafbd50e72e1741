import { randomBytes } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { WebhookVerificationError } from './errors';
import { signWebhook, verifySignature, type SignedHeaders } from './signature';
import { verifyWebhook, Webhooks } from './webhook';

// Scenarios:
// - Known answer: the example of the Standard Webhooks specification.
// - Both ways with the public libraries: what we sign, standardwebhooks and svix verify (svix with both header styles);
//   what they sign, we verify; during a rotation (two signatures) either secret verifies everywhere.
// - Tampering with body, id, timestamp or signature is refused by us and by both libraries, alike.
// - Timestamp tolerance both ways, headers missing or malformed, header case, fetch Headers, svix-* headers.
// - The body is parsed only after the signature matched; a signed body that is not an event is WEBHOOK_BODY_INVALID.
//
// The public libraries read the real clock, so the cases that use them sign at the real now.

const secretA = `whsec_${randomBytes(32).toString('base64')}`;
const secretB = `whsec_${randomBytes(32).toString('base64')}`;
const stranger = `whsec_${randomBytes(32).toString('base64')}`;
const id = 'msg_2k9x7d4mqv8b1r3t6y0w5z2c4n';
const body = JSON.stringify({
  type: 'purchase.made_effective',
  timestamp: '2026-11-27T19:28:47.123Z',
  data: { purchase_id: 'pur_1', status: 'made_effective', student: { name: 'Ana Souza', email: 'ana@example.com' } },
});

const codeOf = (action: () => unknown): string => {
  try {
    action();
  } catch (error) {
    return error instanceof WebhookVerificationError ? error.code : `not ours: ${String(error)}`;
  }
  return 'accepted';
};
const ours = (headers: Record<string, string>, raw: string, secret: string | string[]) => codeOf(() => verifySignature({ headers, body: raw, secret }));
const standard = (headers: Record<string, string>, raw: string, secret: string) => codeOf(() => new StandardWebhook(secret).verify(raw, headers)) === 'accepted';
const svix = (headers: Record<string, string>, raw: string, secret: string) => codeOf(() => new SvixWebhook(secret).verify(raw, headers)) === 'accepted';
const asSvix = (h: SignedHeaders) => ({ 'svix-id': h['webhook-id'], 'svix-timestamp': h['webhook-timestamp'], 'svix-signature': h['webhook-signature'] });

describe('signWebhook', () => {
  it('matches the example of the Standard Webhooks specification', () => {
    expect(signWebhook({ id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', timestamp: 1614265330, body: '{"test": 2432232314}', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it('agrees byte for byte with standardwebhooks for one secret, and lists one signature per secret in a rotation', () => {
    const at = new Date();
    const theirs = new StandardWebhook(secretA).sign(id, at, body);
    expect(signWebhook({ id, timestamp: at, body, secret: secretA })['webhook-signature']).toBe(theirs);
    const both = signWebhook({ id, timestamp: at, body, secret: [secretA, secretB] })['webhook-signature'].split(' ');
    expect(both).toEqual([theirs, new StandardWebhook(secretB).sign(id, at, body)]);
  });
});

describe('our signatures, verified by standardwebhooks and svix', () => {
  it('verify with one secret in every library, svix with both header styles', () => {
    const headers = signWebhook({ id, timestamp: new Date(), body, secret: secretA });
    expect(ours(headers, body, secretA)).toBe('accepted');
    expect(standard(headers, body, secretA)).toBe(true);
    expect(svix(headers, body, secretA)).toBe(true);
    expect(svix(asSvix(headers), body, secretA)).toBe(true);
    expect(ours(asSvix(headers), body, secretA)).toBe('accepted');
  });

  it('during a rotation, either secret verifies in every library; a stranger secret in none', () => {
    const headers = signWebhook({ id, timestamp: new Date(), body, secret: [secretA, secretB] });
    for (const secret of [secretA, secretB]) {
      expect(ours(headers, body, secret)).toBe('accepted');
      expect(standard(headers, body, secret)).toBe(true);
      expect(svix(headers, body, secret)).toBe(true);
    }
    expect(ours(headers, body, [stranger, secretB])).toBe('accepted');
    expect(ours(headers, body, stranger)).toBe('WEBHOOK_SIGNATURE_MISMATCH');
    expect(standard(headers, body, stranger)).toBe(false);
    expect(svix(headers, body, stranger)).toBe(false);
  });

  const now = () => String(Math.floor(Date.now() / 1000));
  it.each([
    ['the body', (h: SignedHeaders) => [h, body.replace('Ana', 'Ena')] as const],
    ['a byte of whitespace in the body', (h: SignedHeaders) => [h, `${body} `] as const],
    ['the id', (h: SignedHeaders) => [{ ...h, 'webhook-id': 'msg_other' }, body] as const],
    ['the timestamp', (h: SignedHeaders) => [{ ...h, 'webhook-timestamp': String(Number(h['webhook-timestamp']) - 1) }, body] as const],
    // The first base64 character after `v1,` carries six bits of the first byte (the last one partly padding bits, which decoders ignore).
    ['the signature', (h: SignedHeaders) => [{ ...h, 'webhook-signature': h['webhook-signature'].replace(/^v1,(.)/, (_m, c: string) => `v1,${c === 'A' ? 'B' : 'A'}`) }, body] as const],
    ['the signature version', (h: SignedHeaders) => [{ ...h, 'webhook-signature': h['webhook-signature'].replace('v1,', 'v2,') }, body] as const],
  ])('tampering with %s is refused by every library', (_what, tamper) => {
    const signed = signWebhook({ id, timestamp: Number(now()), body, secret: secretA });
    const [headers, raw] = tamper(signed);
    expect(ours(headers, raw, secretA)).toBe('WEBHOOK_SIGNATURE_MISMATCH');
    expect(standard(headers, raw, secretA)).toBe(false);
    expect(svix(headers, raw, secretA)).toBe(false);
  });
});

describe('their signatures, verified by ours', () => {
  it('accepts what standardwebhooks signs, and a rotation list made of its signatures', () => {
    const at = new Date();
    const signature = new StandardWebhook(secretA).sign(id, at, body);
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature };
    expect(ours(headers, body, secretA)).toBe('accepted');
    const rotation = { ...headers, 'webhook-signature': `${new StandardWebhook(stranger).sign(id, at, body)} ${signature}` };
    expect(ours(rotation, body, secretA)).toBe('accepted');
    expect(ours(rotation, body, secretB)).toBe('WEBHOOK_SIGNATURE_MISMATCH');
    expect(ours(headers, body.replace('Ana', 'Ena'), secretA)).toBe('WEBHOOK_SIGNATURE_MISMATCH');
  });

  it('accepts what svix signs (svix-* headers), and refuses it tampered', () => {
    const at = new Date();
    const signature = new SvixWebhook(secretB).sign(id, at, body);
    const headers = { 'svix-id': id, 'svix-timestamp': String(Math.floor(at.getTime() / 1000)), 'svix-signature': signature };
    expect(ours(headers, body, secretB)).toBe('accepted');
    expect(ours({ ...headers, 'svix-id': 'msg_x' }, body, secretB)).toBe('WEBHOOK_SIGNATURE_MISMATCH');
  });
});

describe('verifySignature', () => {
  const signedAt = new Date('2026-11-27T19:28:47Z');
  const headers = signWebhook({ id, timestamp: signedAt, body, secret: secretA });
  const at = (offsetSeconds: number) => () => new Date(signedAt.getTime() + offsetSeconds * 1000);
  const verifyAt = (offset: number, tolerance?: number) => codeOf(() => verifySignature({ headers, body, secret: secretA, now: at(offset), ...(tolerance === undefined ? {} : { toleranceSeconds: tolerance }) }));

  it('accepts a timestamp up to the tolerance away, either way, and refuses one past it', () => {
    expect(verifyAt(300)).toBe('accepted');
    expect(verifyAt(-300)).toBe('accepted');
    expect(verifyAt(301)).toBe('WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE');
    expect(verifyAt(-301)).toBe('WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE');
    expect(verifyAt(31, 30)).toBe('WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE');
    expect(verifyAt(30, 30)).toBe('accepted');
  });

  it.each([
    ['no webhook-id', { ...headers, 'webhook-id': '' }],
    ['no webhook-timestamp', { 'webhook-id': id, 'webhook-signature': headers['webhook-signature'] }],
    ['a timestamp that is not unix seconds', { ...headers, 'webhook-timestamp': '2026-11-27T19:28:47Z' }],
    ['no webhook-signature', { 'webhook-id': id, 'webhook-timestamp': headers['webhook-timestamp'] }],
    ['no headers at all', {}],
  ])('refuses %s as WEBHOOK_HEADERS_MISSING', (_case, incoming) => {
    expect(codeOf(() => verifySignature({ headers: incoming, body, secret: secretA, now: at(0) }))).toBe('WEBHOOK_HEADERS_MISSING');
  });

  it('reads header names in any case, repeated headers, fetch Headers, and bytes as the body', () => {
    const mixed = { 'Webhook-Id': id, 'WEBHOOK-TIMESTAMP': [headers['webhook-timestamp']], 'webhook-signature': ['v1,AAAA', headers['webhook-signature']] };
    expect(verifySignature({ headers: mixed, body: new TextEncoder().encode(body), secret: secretA, now: at(0) }).id).toBe(id);
    expect(verifySignature({ headers: new Headers(headers), body: Buffer.from(body), secret: secretA, now: at(0) }).timestamp).toEqual(signedAt);
  });

  it('refuses a secret that is not whsec_ + base64, as a setup error rather than a bad request', () => {
    expect(codeOf(() => verifySignature({ headers, body, secret: 'whsec_not base64!', now: at(0) }))).toMatch(/^not ours: .*Invalid webhook secret/);
    expect(codeOf(() => verifySignature({ headers, body, secret: [], now: at(0) }))).toMatch(/^not ours/);
  });
});

describe('verifyWebhook', () => {
  it('returns the id, the timestamp and the parsed event after the signature matched', () => {
    const headers = signWebhook({ id, timestamp: new Date(), body, secret: secretB });
    const verified = new Webhooks({ secret: [secretA, secretB] }).verify(body, headers);
    expect(verified.id).toBe(id);
    expect(verified.event).toEqual(JSON.parse(body));
    expect(verified.event.type).toBe('purchase.made_effective');
  });

  it('refuses an unsigned body before parsing it, and a signed body that is not an event as WEBHOOK_BODY_INVALID', () => {
    const headers = signWebhook({ id, timestamp: new Date(), body: 'not json', secret: secretA });
    expect(codeOf(() => verifyWebhook('not json', headers, { secret: secretB }))).toBe('WEBHOOK_SIGNATURE_MISMATCH');
    expect(codeOf(() => verifyWebhook('not json', headers, { secret: secretA }))).toBe('WEBHOOK_BODY_INVALID');
    const array = signWebhook({ id, timestamp: new Date(), body: '[1]', secret: secretA });
    expect(codeOf(() => verifyWebhook('[1]', array, { secret: secretA }))).toBe('WEBHOOK_BODY_INVALID');
  });
});
