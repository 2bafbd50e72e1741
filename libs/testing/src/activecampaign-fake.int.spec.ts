import { ActiveCampaignFake } from './activecampaign-fake';

// The local ActiveCampaign server is what the destination's tests trust; these check that it holds its line:
// 401 without a token, 403 with a wrong one, at most 5 accepted requests in any second (429 + Retry-After),
// upsert by e-mail (201 then 200), 422 and 404 bodies in the v3 error shape.
describe('ActiveCampaignFake', () => {
  const fake = new ActiveCampaignFake({ tokens: ['good-token'] });
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());

  const call = async (method: string, path: string, body?: unknown, token: string | null = 'good-token') => {
    const response = await fetch(`${fake.apiUrl}${path}`, {
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
    await new Promise((resolve) => setTimeout(resolve, Number(throttled.headers.get('retry-after')) * 1000));
    expect(await call('POST', '/api/3/contactTags', { contactTag: { contact: '999', tag: '1' } })).toMatchObject({
      status: 404,
      body: { errors: [{ title: 'Not Found', detail: 'Contact not found' }] },
    });
    expect(fake.peakRequestsPerSecond().sliding).toBeGreaterThanOrEqual(6);
  });
});
