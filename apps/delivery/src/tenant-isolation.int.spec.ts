import { randomBytes } from 'node:crypto';
import { messageIdFor } from '@gancho/delivery-domain';
import { createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { SubscriptionsStandIn, TestReceiver, startDelivery, testTopics } from './testing/delivery-test-kit';

type Operation = { security?: Array<Record<string, unknown>> };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const newPurchaseId = () => `pur_${randomBytes(16).toString('hex')}`;

// Scenarios, with the real delivery service, PostgreSQL, the broker and HTTP on loopback:
// - partner A walks EVERY partner route of the API that names a message or an endpoint (read from the
//   OpenAPI document, so a new route is walked too) with partner B's message and endpoint, and gets
//   404 for each; afterwards B's message has the same status and attempts, and B's receiver got nothing
//   more (no resend, no recovery, no test send, nothing skipped);
// - A's message log never shows B's messages: not unfiltered, not filtered by B's endpoint, not from a
//   cursor made of B's message;
// - A's live stream carries A's events and never B's;
// - past the per-key rate limit (the production default, 20/s with a burst of 40) the partner API answers
//   429 RATE_LIMITED with Retry-After, the stream too; another key is not slowed.
describe('delivery partner API: tenant isolation and rate limit', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  const receiverOfA = new TestReceiver();
  const receiverOfB = new TestReceiver();
  const partnerA = uniqueName('ptn_a');
  const partnerB = uniqueName('ptn_b');
  let keyA: string;
  let keyB: string;
  let endpointA: string;
  let endpointB: string;
  let messageA: string;
  let messageB: string;
  let eventB: string;

  const call = (key: string, path: string, method = 'GET', body?: unknown) =>
    fetch(`${service.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const json = async (response: Promise<Response>): Promise<Json> => (await response).json();

  beforeAll(async () => {
    database = await createTestDatabase('delivery_isolation');
    await subscriptions.createTopics();
    await Promise.all([receiverOfA.start(), receiverOfB.start()]);
    service = await startDelivery(database.url, topics, [receiverOfA.host, receiverOfB.host], {
      RETRY_SCHEDULE: '0s,1s',
      PARTNER_API_RATE_LIMIT_PER_SECOND: '20',
      PARTNER_API_RATE_LIMIT_BURST: '40',
    });
    [keyA, keyB] = await Promise.all([subscriptions.issueApiKey(partnerA), subscriptions.issueApiKey(partnerB)]);
    const [a, b] = await Promise.all([subscriptions.putEndpoint({ partnerId: partnerA, url: receiverOfA.url() }), subscriptions.putEndpoint({ partnerId: partnerB, url: receiverOfB.url() })]);
    [endpointA, endpointB] = [a.endpointId, b.endpointId];
    receiverOfA.secrets = a.secrets;
    receiverOfB.secrets = b.secrets;
    // B's endpoint fails, so B's message ends exhausted: resend, skip and recover would each change it.
    receiverOfB.respond = () => ({ status: 500 });
    await eventually(async () => {
      expect((await call(keyA, `/endpoints/${endpointA}/stats`)).status).toBe(200);
      expect((await call(keyB, `/endpoints/${endpointB}/stats`)).status).toBe(200);
    });
    // Occurred now: inside the events API's window, so only ownership can hide B's event from A.
    const now = { occurred_at: new Date().toISOString() };
    const [ofA, ofB] = await Promise.all([subscriptions.publishStatus(partnerA, 'logged', now), subscriptions.publishStatus(partnerB, 'logged', now)]);
    messageA = messageIdFor(ofA.eventId, endpointA);
    messageB = messageIdFor(ofB.eventId, endpointB);
    eventB = ofB.eventId;
    await eventually(
      async () => {
        expect((await json(call(keyA, `/messages/${messageA}`))).status).toBe('succeeded');
        expect((await json(call(keyB, `/messages/${messageB}`))).status).toBe('exhausted');
      },
      { timeoutMs: 20_000 },
    );
  });
  afterAll(async () => {
    await service?.close();
    await subscriptions.close();
    await Promise.all([receiverOfA.stop(), receiverOfB.stop()]);
    await database?.drop();
  });

  it("answers 404 on every partner route for another partner's message or endpoint, and changes nothing", async () => {
    const before = await json(call(keyB, `/messages/${messageB}`));
    const receivedByB = receiverOfB.received.length;
    const document = (await json(fetch(`${service.url}/docs-json`))) as { paths: Record<string, Record<string, Operation>> };
    // A valid body, so that only ownership can refuse the call.
    const bodies: Record<string, unknown> = {
      'post /endpoints/{id}/recover': { since: new Date(0).toISOString() },
      'post /endpoints/{id}/test': { event_type: 'purchase.logged' },
    };

    const walked: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (!operation.security?.some((scheme) => 'partner' in scheme) || !path.includes('{id}')) continue;
        const route = `${method} ${path}`;
        const theirs = path.startsWith('/messages/') ? messageB : path.startsWith('/endpoints/') ? endpointB : path.startsWith('/events/') ? eventB : undefined;
        if (!theirs) throw new Error(`${route}: a partner route this test does not know how to aim at another partner; teach it`);
        const response = await call(keyA, path.replace('{id}', theirs as string), method.toUpperCase(), bodies[route] ?? (method === 'post' ? {} : undefined));
        const body = await response.text();
        expect({ route, status: response.status, code: JSON.parse(body).code }).toEqual({ route, status: 404, code: 'NOT_FOUND' });
        expect(body).not.toContain(partnerB);
        walked.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(walked).toEqual(
      expect.arrayContaining([
        'GET /messages/{id}',
        'POST /messages/{id}/resend',
        'POST /messages/{id}/skip',
        'POST /endpoints/{id}/recover',
        'POST /endpoints/{id}/test',
        'GET /endpoints/{id}/stats',
        'GET /endpoints/{id}/stats/timeseries',
        'GET /events/{id}',
      ]),
    );

    // Had any call gone through, B's receiver would see a resend or a test send: B's own test send, made after
    // them all, is the sign that the dispatcher has had its turn.
    const sentinel = (await json(call(keyB, `/endpoints/${endpointB}/test`, 'POST', { event_type: 'purchase.logged' }))).message_id as string;
    await eventually(() => expect(receiverOfB.ids()).toContain(sentinel));
    expect(receiverOfB.ids().filter((id) => id !== sentinel)).toHaveLength(receivedByB);
    const after = await json(call(keyB, `/messages/${messageB}`));
    expect({ status: after.status, attempts: after.attempt_count }).toEqual({ status: 'exhausted', attempts: before.attempt_count });
    expect((await json(call(keyB, `/messages?endpoint_id=${endpointB}`))).items.map((m: Json) => m.message_id).filter((id: string) => id !== sentinel)).toEqual([messageB]);
  });

  it("never lists another partner's messages", async () => {
    const ids = (path: string) => json(call(keyA, path)).then((page) => page.items.map((m: Json) => m.message_id) as string[]);
    expect(await ids('/messages?limit=200')).toEqual([messageA]);
    expect(await ids(`/messages?endpoint_id=${endpointB}`)).toEqual([]);
    // A cursor pointing just after B's message pages only through A's own.
    const cursorOfB = Buffer.from(`${new Date(Date.now() + 60_000).toISOString()}|${messageB}`).toString('base64url');
    expect(await ids(`/messages?cursor=${cursorOfB}`)).toEqual([messageA]);
  });

  it("streams the caller's events and never another partner's", async () => {
    const controller = new AbortController();
    const response = await fetch(`${service.url}/stream?events=*`, { headers: { authorization: `Bearer ${keyA}` }, signal: controller.signal });
    expect(response.status).toBe(200);
    let text = '';
    const reading = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
      } catch {
        // aborted
      }
    })();
    try {
      await eventually(() => expect(text).toContain('event: ready'));
      const [ofB, ofA] = [newPurchaseId(), newPurchaseId()];
      // B's event first: once A's has arrived, B's would have too.
      await subscriptions.publishStatus(partnerB, 'logged', { purchase_id: ofB });
      await subscriptions.publishStatus(partnerA, 'logged', { purchase_id: ofA });
      await eventually(() => expect(text).toContain(ofA));
      expect(text).not.toContain(ofB);
      expect(text).not.toContain(partnerB);
    } finally {
      controller.abort();
      await reading;
    }
  });

  it('answers 429 RATE_LIMITED with Retry-After past the per-key limit, on the stream too, and only for that key', async () => {
    const busyKey = await subscriptions.issueApiKey(partnerA);
    await eventually(async () => expect((await call(busyKey, '/messages?limit=1')).status).toBe(200));
    // 100 calls at once, every tenth opening the stream: the burst (40) lets the first ones through.
    const paths = Array.from({ length: 100 }, (_, i) => (i % 10 === 9 ? '/stream' : '/messages?limit=1'));
    const responses = await Promise.all(paths.map((path) => call(busyKey, path)));
    const answers = await Promise.all(
      responses.map(async (response, i) => {
        const answer = { path: paths[i] as string, status: response.status, retryAfter: response.headers.get('retry-after'), body: response.status === 429 ? await response.json() : undefined };
        if (response.status !== 429) await response.body?.cancel();
        return answer;
      }),
    );
    const limited = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(30);
    expect(answers.every((a) => a.status === 200 || a.status === 429)).toBe(true);
    expect(new Set(limited.map((a) => a.path))).toEqual(new Set(['/messages?limit=1', '/stream']));
    for (const answer of limited) {
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(answer.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    }
    // Another key of the same partner has its own bucket.
    expect((await call(keyA, '/messages?limit=1')).status).toBe(200);
  });
});
