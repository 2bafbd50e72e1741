import { defaultActiveCampaignMapping, eventTypeOf, examplePayload, purchaseStatuses, statusesInPhase, type PurchaseStatus } from '@gancho/contracts';
import {
  activeCampaignErrorText,
  activeCampaignEventAccepted,
  activeCampaignEventForm,
  activeCampaignUpdate,
  classifyActiveCampaignResult,
  contactSyncBody,
  formatPrice,
  normalizePhone,
  splitStudentName,
  tagsFor,
  unauthorizedDetail,
  type ActiveCampaignStatusEvent,
} from './activecampaign-mapping';

const now = new Date('2026-11-28T00:00:00Z');
const eventOf = (status: PurchaseStatus, student: Partial<ActiveCampaignStatusEvent['student']> = {}): ActiveCampaignStatusEvent => {
  const data = examplePayload(eventTypeOf(status)).data;
  return { ...data, student: { ...data.student, ...student } };
};

describe('splitStudentName', () => {
  it.each([
    ['Maria Silva', { firstName: 'Maria', lastName: 'Silva' }],
    ['Maria da Silva Santos', { firstName: 'Maria', lastName: 'da Silva Santos' }],
    ['  João   Pedro  de Oliveira ', { firstName: 'João', lastName: 'Pedro de Oliveira' }],
    ['Xuxa', { firstName: 'Xuxa' }],
    ['', { firstName: '' }],
  ])('%j → %j', (name, expected) => {
    expect(splitStudentName(name)).toEqual(expected);
  });
});

describe('normalizePhone', () => {
  it.each([
    ['(11) 98765-4321', '+5511987654321'],
    ['11 3456-7890', '+551134567890'],
    ['011 98765-4321', '+5511987654321'],
    ['+55 (21) 99876-5432', '+5521998765432'],
    ['55 21 99876 5432', '+5521998765432'],
    ['0055 21 99876 5432', '+5521998765432'],
    ['+1 415 555 0100', '+14155550100'],
  ])('%j → %j', (raw, expected) => {
    expect(normalizePhone(raw)).toBe(expected);
  });

  it.each([[undefined], [null], [''], ['12345'], ['not a phone'], ['+12'], ['+1234567890123456']])('gives up on %j', (raw) => {
    expect(normalizePhone(raw)).toBeUndefined();
  });
});

describe('formatPrice', () => {
  it.each([
    [1234500, '12345.00'],
    [199, '1.99'],
    [5, '0.05'],
    [0, '0.00'],
  ])('%d cents → %s', (cents, text) => {
    expect(formatPrice(cents)).toBe(text);
  });
});

describe('tagsFor', () => {
  const mapping = defaultActiveCampaignMapping();

  it('tags every status with gancho:<status>', () => {
    for (const status of purchaseStatuses) expect(tagsFor(status, mapping)).toContain(`gancho:${status}`);
  });

  it('adds the cart-recovery tag on the recoverable lost statuses only', () => {
    const recovering = purchaseStatuses.filter((status) => tagsFor(status, mapping).includes('gancho:cart_recovery'));
    expect(recovering).toEqual(['abandonment_before_signed', 'link_inactive', 'expired']);
    // Every one of them is in the lost phase; the one lost status left out is a credit denied for good.
    expect(statusesInPhase('lost').filter((s) => !recovering.includes(s))).toEqual(['denied']);
  });

  it('follows a custom mapping: prefix, no status tags, own recovery tag, never the same tag twice', () => {
    expect(tagsFor('expired', { ...mapping, tag_prefix: 'escola-', recovery_tag: 'Recuperar carrinho' })).toEqual(['escola-expired', 'Recuperar carrinho']);
    expect(tagsFor('expired', { ...mapping, status_tags: false })).toEqual(['gancho:cart_recovery']);
    expect(tagsFor('expired', { ...mapping, recovery_tag: null })).toEqual(['gancho:expired']);
    expect(tagsFor('made_effective', { ...mapping, status_tags: false })).toEqual([]);
    expect(tagsFor('expired', { ...mapping, recovery_tag: 'GANCHO:EXPIRED' })).toEqual(['gancho:expired']);
  });
});

describe('activeCampaignUpdate', () => {
  it('maps a status event with the default mapping: contact, five fields, tags', () => {
    const update = activeCampaignUpdate(eventOf('link_inactive', { name: 'Maria da Silva', email: 'maria@example.com', phone: '(11) 98765-4321' }), defaultActiveCampaignMapping());
    expect(update).toEqual({
      contact: { email: 'maria@example.com', firstName: 'Maria', lastName: 'da Silva', phone: '+5511987654321' },
      fields: [
        { key: 'course', perstag: 'GANCHO_COURSE', title: 'Gancho: course', value: 'Full-stack Web Development' },
        { key: 'purchase_id', perstag: 'GANCHO_PURCHASE_ID', title: 'Gancho: purchase id', value: 'pur_01JDZ8Q6Y3M4T5V6W7X8Y9Z0AB' },
        { key: 'status', perstag: 'GANCHO_STATUS', title: 'Gancho: purchase status', value: 'link_inactive' },
        { key: 'phase', perstag: 'GANCHO_PHASE', title: 'Gancho: purchase phase', value: 'lost' },
        { key: 'price', perstag: 'GANCHO_PRICE', title: 'Gancho: course price', value: '12345.00' },
      ],
      tags: ['gancho:link_inactive', 'gancho:cart_recovery'],
    });
  });

  it('leaves out a phone it cannot read, a last name there is not, and fields mapped to null; upper-cases perstags', () => {
    const mapping = { ...defaultActiveCampaignMapping(), fields: { course: 'curso', purchase_id: null, status: 'STATUS_GANCHO', phase: null, price: null } };
    const update = activeCampaignUpdate(eventOf('made_effective', { name: 'Xuxa', phone: '123' }), mapping);
    expect(update.contact).toEqual({ email: 'maria.silva@example.com', firstName: 'Xuxa' });
    expect(update.fields.map((f) => [f.perstag, f.value])).toEqual([
      ['CURSO', 'Full-stack Web Development'],
      ['STATUS_GANCHO', 'made_effective'],
    ]);
    expect(update.tags).toEqual(['gancho:made_effective']);
  });

  it('builds the contact/sync body with the field ids it knows', () => {
    const update = activeCampaignUpdate(eventOf('expired'), defaultActiveCampaignMapping());
    const body = contactSyncBody(
      update,
      new Map([
        ['GANCHO_STATUS', '7'],
        ['GANCHO_PRICE', '9'],
      ]),
    );
    expect(body).toEqual({
      contact: {
        email: 'maria.silva@example.com',
        firstName: 'Maria',
        lastName: 'Silva',
        fieldValues: [
          { field: '7', value: 'expired' },
          { field: '9', value: '12345.00' },
        ],
      },
    });
  });
});

describe('activeCampaignEventForm', () => {
  it('names the event after the status, with the purchase as data and the contact by e-mail', () => {
    const form = new URLSearchParams(activeCampaignEventForm(eventOf('link_inactive'), { actid: '223344', eventKey: 'k3y' }));
    expect(Object.fromEntries(form)).toEqual({
      actid: '223344',
      key: 'k3y',
      event: 'link_inactive',
      eventdata: 'pur_01JDZ8Q6Y3M4T5V6W7X8Y9Z0AB',
      visit: '{"email":"maria.silva@example.com"}',
    });
    // AC allows 32 characters per event name; every status fits.
    expect(Math.max(...purchaseStatuses.map((s) => s.length))).toBeLessThanOrEqual(32);
  });

  it('reads whether the event was taken', () => {
    expect(activeCampaignEventAccepted('{"success":1,"message":"Event spawned"}')).toEqual({ accepted: true, message: 'Event spawned' });
    expect(activeCampaignEventAccepted('{"success":0,"message":"Invalid key"}')).toEqual({ accepted: false, message: 'Invalid key' });
    expect(activeCampaignEventAccepted('<html>')).toEqual({ accepted: false, message: '<html>' });
  });
});

describe('activeCampaignErrorText', () => {
  it('reads the v3 error list', () => {
    const body = JSON.stringify({ errors: [{ title: 'Email address is invalid', detail: 'not-an-email', code: 'email_invalid', source: { pointer: '/data/attributes/email' } }] });
    expect(activeCampaignErrorText(body)).toBe('Email address is invalid: not-an-email (/data/attributes/email) [email_invalid]');
    expect(activeCampaignErrorText(JSON.stringify({ errors: [{ title: 'Not Found', detail: 'Contact not found' }, { title: 'Missing attribute' }] }))).toBe('Not Found: Contact not found; Missing attribute');
  });

  it('reads a message, else keeps the raw text, bounded', () => {
    expect(activeCampaignErrorText('{"message":"No Result found"}')).toBe('No Result found');
    expect(activeCampaignErrorText(' <html>oops</html> ')).toBe('<html>oops</html>');
    const long = activeCampaignErrorText('x'.repeat(2000), 100);
    expect(long).toHaveLength(100);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('classifyActiveCampaignResult', () => {
  const response = (status: number, headers: Record<string, string> = {}) => ({ kind: 'response' as const, status, headers, elapsedMs: 3 });

  it('succeeds on 2xx', () => {
    for (const status of [200, 201, 204]) expect(classifyActiveCampaignResult(response(status), { now })).toEqual({ outcome: 'succeeded' });
  });

  it('honours Retry-After on 429 (bounded), and falls back to the schedule without it', () => {
    expect(classifyActiveCampaignResult(response(429, { 'Retry-After': '30' }), { now })).toEqual({ outcome: 'retry', reason: 'rate_limited', retryAfterMs: 30_000 });
    expect(classifyActiveCampaignResult(response(429, { 'retry-after': '0' }), { now })).toEqual({ outcome: 'retry', reason: 'rate_limited', retryAfterMs: 1_000 });
    expect(classifyActiveCampaignResult(response(429), { now })).toEqual({ outcome: 'retry', reason: 'rate_limited' });
  });

  it('disables on 401/403 and fails the message for good on 422/400', () => {
    expect(classifyActiveCampaignResult(response(401), { now })).toEqual({ outcome: 'disable_endpoint', reason: 'unauthorized' });
    expect(classifyActiveCampaignResult(response(403), { now })).toEqual({ outcome: 'disable_endpoint', reason: 'unauthorized' });
    expect(classifyActiveCampaignResult(response(422), { now })).toEqual({ outcome: 'failed_permanently', reason: 'rejected' });
    expect(classifyActiveCampaignResult(response(400), { now })).toEqual({ outcome: 'failed_permanently', reason: 'rejected' });
  });

  it('retries 404, 5xx, 3xx and network failures by the schedule; never connects past the SSRF guard', () => {
    expect(classifyActiveCampaignResult(response(404), { now })).toEqual({ outcome: 'retry', reason: 'client_error' });
    expect(classifyActiveCampaignResult(response(500), { now })).toEqual({ outcome: 'retry', reason: 'server_error' });
    expect(classifyActiveCampaignResult(response(503), { now })).toEqual({ outcome: 'retry', reason: 'service_unavailable' });
    expect(classifyActiveCampaignResult(response(302), { now })).toEqual({ outcome: 'retry', reason: 'redirect' });
    expect(classifyActiveCampaignResult({ kind: 'error', errorClass: 'timeout', message: 'slow' }, { now })).toEqual({ outcome: 'retry', reason: 'timeout' });
    expect(classifyActiveCampaignResult({ kind: 'error', errorClass: 'ssrf_blocked', message: 'no' }, { now })).toEqual({ outcome: 'failed_permanently', reason: 'ssrf_blocked' });
  });

  it('explains a disablement to the partner', () => {
    expect(unauthorizedDetail(403, 'https://escola.api-us1.com', 'Forbidden')).toBe(
      'ActiveCampaign refused the API token (403) at https://escola.api-us1.com: Forbidden. Give the endpoint a valid token and re-enable it.',
    );
  });
});
