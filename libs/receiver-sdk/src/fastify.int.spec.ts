import Fastify, { type FastifyInstance } from 'fastify';
import { webhookOf, webhookPlugin } from './fastify';
import { WebhookIdempotency } from './idempotency';
import { signWebhook } from './signature';
import { madeEffectiveBody, postWebhook, secret } from './testing/webhook-requests';

// Scenarios, over real HTTP with Fastify 5:
// - in the scope the plugin is registered in, a signed webhook reaches the handler typed; a bad one gets 401 problem+json;
// - routes outside that scope keep Fastify's own JSON parsing;
// - with idempotency, a redelivery of a processed id gets 200 without the handler; a 500 releases the id.

describe('webhookPlugin (Fastify)', () => {
  let app: FastifyInstance;
  let base: string;
  const handled: string[] = [];
  let failNext = false;

  beforeAll(async () => {
    app = Fastify();
    const idempotency = new WebhookIdempotency();
    await app.register(async (scope) => {
      await scope.register(webhookPlugin, { secret });
      scope.post('/webhooks', async (request, reply) => {
        const { id, event } = webhookOf(request);
        handled.push(id);
        return reply.code(200).send({ type: event.type, purchase: event.data.purchase_id });
      });
    });
    await app.register(async (scope) => {
      await scope.register(webhookPlugin, { secret, idempotency });
      scope.post('/once', async (request, reply) => {
        handled.push(webhookOf(request).id);
        if (failNext) {
          failNext = false;
          return reply.code(500).send({ error: 'database down' });
        }
        return reply.code(204).send();
      });
    });
    app.post('/elsewhere', async (request) => ({ parsed: request.body }));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());
  beforeEach(() => (handled.length = 0));

  it('hands a verified, typed event to the handler', async () => {
    const answer = await postWebhook(`${base}/webhooks`, { id: 'msg_fastify_1', body: madeEffectiveBody('pur_fastify') });
    expect(answer).toMatchObject({ status: 200, body: { type: 'purchase.made_effective', purchase: 'pur_fastify' } });
    expect(handled).toEqual(['msg_fastify_1']);
  });

  it('refuses a tampered body and a missing signature with 401 problem+json, before the handler', async () => {
    const headers = signWebhook({ id: 'msg_1', timestamp: new Date(), body: madeEffectiveBody(), secret });
    const tampered = await postWebhook(`${base}/webhooks`, { body: madeEffectiveBody('pur_other'), headers });
    expect(tampered).toMatchObject({ status: 401, body: { code: 'WEBHOOK_SIGNATURE_MISMATCH' } });
    expect(tampered.contentType).toMatch(/application\/problem\+json/);
    expect(await postWebhook(`${base}/webhooks`, { headers: {} })).toMatchObject({ status: 401, body: { code: 'WEBHOOK_HEADERS_MISSING' } });
    expect(handled).toEqual([]);
  });

  it('leaves routes outside its scope to Fastify JSON parsing', async () => {
    const response = await fetch(`${base}/elsewhere`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await response.json()).toEqual({ parsed: { a: 1 } });
  });

  it('with idempotency, runs each webhook-id once, and again after a 500', async () => {
    failNext = true;
    expect((await postWebhook(`${base}/once`, { id: 'msg_f_once' })).status).toBe(500);
    expect((await postWebhook(`${base}/once`, { id: 'msg_f_once' })).status).toBe(204);
    expect(await postWebhook(`${base}/once`, { id: 'msg_f_once' })).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(handled).toEqual(['msg_f_once', 'msg_f_once']);
  });
});
