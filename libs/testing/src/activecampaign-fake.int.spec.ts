import { request } from 'node:http';
import { ActiveCampaignFake } from './activecampaign-fake';
import { eventually } from './eventually';

// The local ActiveCampaign server is what the destination's tests trust; these check that it holds its line:
// 401 without a token, 403 with a wrong one, at most 5 accepted requests in any second (429 + Retry-After),
// upsert by e-mail (201 then 200), delete by id, 422 and 404 bodies in the v3 error shape; its clock is the test's, so
// seconds pass when the test says.
describe('ActiveCampaignFake', () => {
  let clock = Date.parse('2026-12-01T12:00:00.000Z');
  const fake = new ActiveCampaignFake({ tokens: ['good-token'], now: () => clock });
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());

  const call = async (method: string, path: string, body?: unknown, token: string | null = 'good-token', on: ActiveCampaignFake = fake) => {
    const response = await fetch(`${on.apiUrl}${path}`, {
      method,
      headers: { ...(token === null ? {} : { 'api-token': token }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  };

  it('authenticates, upserts, validates and throttles as documented', async () => {
    expect((await call('GET', '/api/3/tags', undefined, null)).status).toBe(401);
    expect((await call('GET', '/api/3/tags', undefined, 'bad-token')).status).toBe(403);
    const created = await call('POST', '/api/3/contact/sync', { contact: { email: 'ana@escola.example', firstName: 'Ana' } });
    expect(created).toMatchObject({ status: 201, body: { contact: { email: 'ana@escola.example', firstName: 'Ana' } } });
    const updated = await call('POST', '/api/3/contact/sync', { contact: { email: 'ANA@escola.example', lastName: 'Souza' } });
    expect(updated).toMatchObject({ status: 200, body: { contact: { id: created.body.contact.id, firstName: 'Ana', lastName: 'Souza' } } });
    expect((await call('POST', '/api/3/contact/sync', { contact: { email: 'ana@escola.invalid' } })).body).toEqual({
      errors: [{ title: 'Email address is invalid', detail: 'ana@escola.invalid', code: 'email_invalid', source: { pointer: '/data/attributes/email' } }],
    });
    expect((await call('GET', '/api/3/tags?search=x')).body).toEqual({ tags: [], meta: { total: '0' } });
    expect((await call('POST', '/api/3/tags', { tag: { tag: 'a,b' } })).status).toBe(422);
    // Five accepted requests within this second: the next is refused until the window moves.
    const throttled = await call('POST', '/api/3/contactTags', { contactTag: { contact: '999', tag: '1' } });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    clock += Number(throttled.headers.get('retry-after')) * 1000;
    expect(await call('POST', '/api/3/contactTags', { contactTag: { contact: '999', tag: '1' } })).toMatchObject({
      status: 404,
      body: { errors: [{ title: 'Not Found', detail: 'Contact not found' }] },
    });
    expect(fake.peakRequestsPerSecond().sliding).toBeGreaterThanOrEqual(6);
  });

  it('deletes a contact by id (200 {}), and answers 404 for one it does not have', async () => {
    const account = await new ActiveCampaignFake({ tokens: ['good-token'], now: () => clock }).start();
    try {
      const created = await call('POST', '/api/3/contact/sync', { contact: { email: 'bia@escola.example', firstName: 'Bia' } }, 'good-token', account);
      const id = String(created.body.contact.id);
      expect(await call('DELETE', `/api/3/contacts/${id}`, undefined, 'good-token', account)).toMatchObject({ status: 200, body: {} });
      expect(account.contact('bia@escola.example')).toBeUndefined();
      expect(account.deletedContacts).toEqual([id]);
      expect(await call('DELETE', `/api/3/contacts/${id}`, undefined, 'good-token', account)).toMatchObject({ status: 404, body: { message: `No Result found for Subscriber with id ${id}` } });
      expect((await call('DELETE', `/api/3/contacts/${id}`, undefined, null, account)).status).toBe(401);
    } finally {
      await account.stop();
    }
  });

  it('counts a request when it has arrived whole: a body that finishes after a later request cannot make a sixth', async () => {
    const account = await new ActiveCampaignFake({ tokens: ['good-token'], now: () => clock }).start();
    try {
      const start = clock;
      for (let i = 0; i < 5; i += 1) expect((await call('GET', '/api/3/tags', undefined, 'good-token', account)).status).toBe(200);
      // One request's headers (and half its body) come just before the second is over...
      clock = start + 999;
      const body = JSON.stringify({ tag: { tag: 'slow' } });
      const slow = request(`${account.apiUrl}/api/3/tags`, { method: 'POST', headers: { 'api-token': 'good-token', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
      const answered = new Promise<number>((resolve, reject) => slow.on('response', (r) => (r.resume(), resolve(r.statusCode ?? 0))).on('error', reject));
      slow.write(body.slice(0, 5));
      await eventually(() => expect(account.receiving).toBe(1), { intervalMs: 5 });
      // ...a quick one comes whole when it is over, and then the rest of the slow one.
      clock = start + 1000;
      expect((await call('POST', '/api/3/tags', { tag: { tag: 'quick' } }, 'good-token', account)).status).toBe(201);
      slow.end(body.slice(5));
      expect(await answered).toBe(201);
      const accepted = account.requests.filter((r) => r.status < 300).map((r) => r.at);
      const inAnySecond = Math.max(...accepted.map((t) => accepted.filter((u) => u >= t && u < t + 1000).length));
      expect(inAnySecond).toBe(5);
    } finally {
      await account.stop();
    }
  });
});
