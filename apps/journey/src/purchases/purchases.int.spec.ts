import { createTestDatabase, type TestDatabase, type TestService } from '@gancho/testing';
import { happyPath, journeyClient, startJourney } from '../testing/journey-test-app';

// Scenarios, over real HTTP on the real PostgreSQL (the relay is covered elsewhere):
// - a purchase opens and walks the journey to made_effective; its history and list entry follow;
// - a refused command is 409 ILLEGAL_TRANSITION naming the status and the command, and appends nothing;
// - Idempotency-Key: a retried command appends once; the same key with another body is 422;
// - If-Match and concurrent writers: never a lost or double write;
// - bad input and unknown purchases get problem+json with stable codes;
// - listing by partner and status pages with a cursor; OpenAPI lists a route per command.
describe('journey HTTP API', () => {
  let database: TestDatabase;
  let service: TestService;
  let api: ReturnType<typeof journeyClient>;

  beforeAll(async () => {
    database = await createTestDatabase('journey_api');
    service = await startJourney(database.url, { env: { OUTBOX_RELAY_ENABLED: 'false' } });
    api = journeyClient(service.url);
  });
  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  it('opens a purchase and drives it through the journey, keeping its history', async () => {
    const opened = await api.open();
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({
      purchase_id: expect.stringMatching(/^pur_[0-9a-f]{32}$/),
      partner_id: 'ptn_escola_azul',
      status: 'shopping_cart_created',
      previous_status: null,
      phase: 'open',
      version: 1,
      course: { id: 'crs_data_science', name: 'Ciência de Dados', price_cents: 1_234_500, currency: 'BRL' },
      student: { subject_id: expect.stringMatching(/^sub_[0-9a-f]{32}$/) },
    });
    const id = opened.body.purchase_id;

    let previous = 'shopping_cart_created';
    for (const step of happyPath) {
      const moved = await api.command(id, step.path, step.body);
      expect({ step: step.path, status: moved.status, body: moved.body }).toMatchObject({ status: 200, body: { status: step.status, previous_status: previous } });
      previous = step.status;
    }

    const read = await api.get(id);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe(`"${happyPath.length + 1}"`);
    expect(read.body).toMatchObject({ status: 'made_effective', phase: 'won', version: happyPath.length + 1, previous_status: 'approved' });
    expect(read.body.student).toEqual({ subject_id: opened.body.student.subject_id, name: 'Ana Souza', email: 'ana.souza@example.com' });
    expect(read.body.history.map((h: { status: string }) => h.status)).toEqual(['shopping_cart_created', ...happyPath.map((s) => s.status)]);
    expect(read.body.history.map((h: { sequence: number }) => h.sequence)).toEqual(Array.from({ length: happyPath.length + 1 }, (_, i) => i + 1));
    expect(read.body.history[2]).toMatchObject({ type: 'BasicInfoReviewed', decision: 'approved' });
  });

  it('refuses an illegal transition with 409 naming the status and the command, appending nothing', async () => {
    const { body: purchase } = await api.open();
    const refused = await api.command(purchase.purchase_id, 'make-effective');
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'ILLEGAL_TRANSITION', currentStatus: 'shopping_cart_created', command: 'MakeEffective' });
    expect(refused.body.detail).toMatch(/shopping_cart_created/);
    expect(refused.body.detail).toMatch(/MakeEffective/);
    expect((await api.get(purchase.purchase_id)).body.version).toBe(1);
  });

  it('opens a not-logged-in student as not_logged, and lets the platform choose the id', async () => {
    const purchaseId = `pur_${'0'.repeat(12)}${'a'.repeat(20)}`;
    const opened = await api.open({ purchase_id: purchaseId, student_logged_in: false });
    expect(opened.body).toMatchObject({ purchase_id: purchaseId, status: 'not_logged' });
    const twice = await api.open({ purchase_id: purchaseId });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('PURCHASE_ALREADY_EXISTS');
  });

  describe('Idempotency-Key', () => {
    it('appends a retried command once and replays its response', async () => {
      const { body: purchase } = await api.open();
      const first = await api.command(purchase.purchase_id, 'submit-basic-info', {}, { 'idempotency-key': `k-${purchase.purchase_id}` });
      const retry = await api.command(purchase.purchase_id, 'submit-basic-info', {}, { 'idempotency-key': `k-${purchase.purchase_id}` });
      expect(first.status).toBe(200);
      expect(retry.status).toBe(200);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.body).toEqual(first.body);
      expect((await api.get(purchase.purchase_id)).body.history).toHaveLength(2);
    });

    it('opens one purchase for one key, and refuses the key with another body', async () => {
      const headers = { 'idempotency-key': 'open-once-0001' };
      const first = await api.open({}, headers);
      const again = await api.open({}, headers);
      expect(again.body.purchase_id).toBe(first.body.purchase_id);
      const other = await api.open({ partner_id: 'ptn_outra' }, headers);
      expect(other.status).toBe(422);
      expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    });

    it('opens one purchase for racing requests with one key and no purchase id', async () => {
      const partner = `ptn_race_${Date.now()}`;
      const headers = { 'idempotency-key': `open-race-${partner}` };
      const racing = await Promise.all(Array.from({ length: 5 }, () => api.open({ partner_id: partner }, headers)));
      expect(racing.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      expect(new Set(racing.map((r) => r.body.purchase_id)).size).toBe(1);
      expect(racing.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(4);
      expect((await api.request('GET', `/purchases?partner_id=${partner}`)).body.items).toHaveLength(1);
    });

    it('replays a refused command under its key, even once the command would be allowed', async () => {
      const { body: purchase } = await api.open();
      const headers = { 'idempotency-key': `refused-${purchase.purchase_id}` };
      const refused = await api.command(purchase.purchase_id, 'review-basic-info', { decision: 'approved' }, headers);
      await api.command(purchase.purchase_id, 'submit-basic-info');
      const again = await api.command(purchase.purchase_id, 'review-basic-info', { decision: 'approved' }, headers);
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('ILLEGAL_TRANSITION');
      expect(again.status).toBe(409);
      expect(again.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual(refused.body);
      expect((await api.get(purchase.purchase_id)).body.version).toBe(2);
    });

    it('does not remember a version conflict: the retry with the same key runs', async () => {
      const { body: purchase } = await api.open();
      const key = { 'idempotency-key': `conflict-${purchase.purchase_id}` };
      const stale = await api.command(purchase.purchase_id, 'submit-basic-info', {}, { ...key, 'if-match': '"7"' });
      const retried = await api.command(purchase.purchase_id, 'submit-basic-info', {}, { ...key, 'if-match': '"1"' });
      expect(stale.status).toBe(409);
      expect(stale.body.code).toBe('STREAM_VERSION_CONFLICT');
      expect(retried.status).toBe(200);
      expect(retried.headers.get('idempotent-replayed')).toBeNull();
      expect(retried.body).toMatchObject({ status: 'basic_info_review', version: 2 });
    });
  });

  describe('concurrency', () => {
    it('refuses a stale If-Match with 409 STREAM_VERSION_CONFLICT', async () => {
      const { body: purchase } = await api.open();
      await api.command(purchase.purchase_id, 'submit-basic-info', {}, { 'if-match': '"1"' });
      const stale = await api.command(purchase.purchase_id, 'review-basic-info', { decision: 'approved' }, { 'if-match': '"1"' });
      expect(stale.status).toBe(409);
      expect(stale.body).toMatchObject({ code: 'STREAM_VERSION_CONFLICT', expected: 1, actual: 2 });
    });

    it('never applies two racing commands on one purchase', async () => {
      const { body: purchase } = await api.open();
      const racing = await Promise.all(Array.from({ length: 6 }, () => api.command(purchase.purchase_id, 'submit-basic-info')));
      expect(racing.filter((r) => r.status === 200)).toHaveLength(1);
      for (const loser of racing.filter((r) => r.status !== 200)) {
        expect(loser.status).toBe(409);
        expect(['ILLEGAL_TRANSITION', 'STREAM_VERSION_CONFLICT']).toContain(loser.body.code);
      }
      expect((await api.get(purchase.purchase_id)).body.history).toHaveLength(2);
    });
  });

  describe('bad input', () => {
    it.each([
      ['an unknown field', { partner_id: 'p', course: { id: 'c', name: 'n', price_cents: 1, currency: 'BRL' }, student: { name: 's', email: 'a@b.co' }, coupon: 'x' }, 'VALIDATION_FAILED'],
      ['a wrong type', { partner_id: 'p', course: { id: 'c', name: 'n', price_cents: '12', currency: 'BRL' }, student: { name: 's', email: 'a@b.co' } }, 'VALIDATION_FAILED'],
      ['an invalid email', { partner_id: 'p', course: { id: 'c', name: 'n', price_cents: 1, currency: 'BRL' }, student: { name: 's', email: 'not-an-email' } }, 'VALIDATION_FAILED'],
      ['a lower-case currency', { partner_id: 'p', course: { id: 'c', name: 'n', price_cents: 1, currency: 'brl' }, student: { name: 's', email: 'a@b.co' } }, 'VALIDATION_FAILED'],
      ['malformed JSON', '{"partner_id": ', 'MALFORMED_JSON'],
      ['a body of 300 KiB', { partner_id: 'x'.repeat(300 * 1024) }, 'PAYLOAD_TOO_LARGE'],
    ])('answers %s with problem+json', async (_what, body, code) => {
      const response = await api.request('POST', '/purchases', body);
      expect(response.body.code).toBe(code);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    });

    it('refuses an unknown field on a command and a bad review decision', async () => {
      const { body: purchase } = await api.open();
      expect((await api.command(purchase.purchase_id, 'submit-basic-info', { note: 'x' })).body.code).toBe('VALIDATION_FAILED');
      await api.command(purchase.purchase_id, 'submit-basic-info');
      const bad = await api.command(purchase.purchase_id, 'review-basic-info', { decision: 'maybe' });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].path).toBe('decision');
    });

    it('answers unknown and malformed purchase ids with 404 PURCHASE_NOT_FOUND', async () => {
      for (const id of [`pur_${'f'.repeat(32)}`, 'not-an-id', "pur_1' OR '1'='1"]) {
        expect((await api.get(encodeURIComponent(id))).body.code).toBe('PURCHASE_NOT_FOUND');
        expect((await api.command(encodeURIComponent(id), 'log-in')).status).toBe(404);
      }
    });

    it('requires the platform token', async () => {
      const response = await fetch(`${service.url}/purchases`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' }, body: '{}' });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { code: string }).code).toBe('UNAUTHORIZED');
    });
  });

  it('lists purchases by partner and status, page by page', async () => {
    const partner = `ptn_list_${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api.open({ partner_id: partner })).body.purchase_id);
    await api.command(ids[0] as string, 'submit-basic-info');

    const carts = await api.request('GET', `/purchases?partner_id=${partner}&status=shopping_cart_created&limit=2`);
    expect(carts.body.items.map((p: { purchase_id: string }) => p.purchase_id)).toEqual(ids.slice(1, 3));
    const next = await api.request('GET', `/purchases?partner_id=${partner}&status=shopping_cart_created&limit=2&cursor=${carts.body.next_cursor}`);
    expect(next.body.items.map((p: { purchase_id: string }) => p.purchase_id)).toEqual(ids.slice(3, 5));
    expect(next.body.next_cursor).toBeNull();
    expect((await api.request('GET', `/purchases?status=unknown_status`)).body.code).toBe('VALIDATION_FAILED');
  });

  it('documents one route per command in OpenAPI', async () => {
    const document = (await api.request('GET', '/docs-json')).body;
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/purchases', '/purchases/{id}', '/purchases/{id}/sign-contract', '/purchases/{id}/make-effective', '/purchases/{id}/review-documents']));
    expect(document.paths['/purchases/{id}/review-documents'].post.requestBody.content['application/json'].schema.required).toEqual(['decision']);
  });
});
