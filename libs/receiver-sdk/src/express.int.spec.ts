import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { signWebhook } from './signature';
import { webhookMiddleware, webhookOf } from './express';
import { WebhookIdempotency } from './idempotency';
import type { WebhookEvent } from './generated/event-types';
import { madeEffectiveBody, otherSecret, postWebhook, secret } from './testing/webhook-requests';

// Scenarios, over real HTTP with Express 5:
// - a signed webhook reaches the handler with its typed event and id; the raw bytes were verified, not re-serialised JSON;
// - a bad signature, a tampered body, missing headers and a stale timestamp get 401 problem+json and never reach the handler;
// - with express.raw() in front it still verifies; with express.json() in front it refuses to guess (500, setup error);
// - with idempotency: a redelivery of a processed id is answered 200 without the handler; a handler that answered 500
//   is run again on the redelivery.

describe('webhookMiddleware (Express)', () => {
  let server: Server;
  let base: string;
  const handled: { id: string; event: WebhookEvent }[] = [];
  let failNext = false;

  beforeAll(async () => {
    const app = express();
    const idempotency = new WebhookIdempotency();
    app.post('/webhooks', webhookMiddleware({ secret: [otherSecret, secret] }), (req, res) => {
      const { id, event } = webhookOf(req);
      handled.push({ id, event });
      // The union narrows on `type`.
      if (event.type === 'purchase.made_effective') res.status(200).json({ got: event.data.student.email, phase: event.data.phase });
      else res.sendStatus(204);
    });
    app.post('/raw', express.raw({ type: 'application/json' }), webhookMiddleware({ secret }), (req, res) => {
      res.json({ type: webhookOf(req).event.type });
    });
    app.post('/parsed-first', express.json(), webhookMiddleware({ secret }), (_req, res) => res.sendStatus(204));
    app.post('/once', webhookMiddleware({ secret, idempotency }), (req, res) => {
      handled.push(webhookOf(req));
      if (failNext) {
        failNext = false;
        res.sendStatus(500);
        return;
      }
      res.sendStatus(204);
    });
    // Express 5 error handler: a setup error is a 500 with its message.
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ error: error.message });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => (handled.length = 0));

  it('hands a verified, typed event to the handler', async () => {
    const answer = await postWebhook(`${base}/webhooks`, { id: 'msg_express_1' });
    expect(answer).toMatchObject({ status: 200, body: { got: 'ana@example.com', phase: 'won' } });
    expect(handled).toHaveLength(1);
    expect(handled[0]!.id).toBe('msg_express_1');
    expect(handled[0]!.event).toEqual(JSON.parse(madeEffectiveBody()));
  });

  it('verifies the bytes as sent: pretty-printed JSON signed as such passes', async () => {
    const pretty = JSON.stringify(JSON.parse(madeEffectiveBody()), null, 2);
    expect((await postWebhook(`${base}/webhooks`, { body: pretty })).status).toBe(200);
  });

  it.each([
    ['another secret', { signingSecret: 'whsec_' + Buffer.alloc(32, 9).toString('base64') }, 'WEBHOOK_SIGNATURE_MISMATCH'],
    ['a tampered body', { body: madeEffectiveBody('pur_other'), headers: signWebhook({ id: 'msg_1', timestamp: new Date(), body: madeEffectiveBody(), secret }) }, 'WEBHOOK_SIGNATURE_MISMATCH'],
    ['no signature headers', { headers: {} }, 'WEBHOOK_HEADERS_MISSING'],
    ['a stale timestamp', { headers: signWebhook({ id: 'msg_1', timestamp: new Date(Date.now() - 600_000), body: madeEffectiveBody(), secret }) }, 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE'],
  ])('refuses %s with 401 problem+json, before the handler', async (_case, request, code) => {
    const answer = await postWebhook(`${base}/webhooks`, request);
    expect(answer.status).toBe(401);
    expect(answer.contentType).toMatch(/application\/problem\+json/);
    expect(answer.body).toMatchObject({ status: 401, code });
    expect(handled).toEqual([]);
  });

  it('works behind express.raw(), and refuses to verify a body express.json() already parsed', async () => {
    expect(await postWebhook(`${base}/raw`)).toMatchObject({ status: 200, body: { type: 'purchase.made_effective' } });
    const parsed = await postWebhook(`${base}/parsed-first`);
    expect(parsed.status).toBe(500);
    expect(String(parsed.body?.['error'])).toMatch(/raw body is not available/);
  });

  it('with idempotency, answers a redelivery of a processed id without the handler, and retries one that failed', async () => {
    failNext = true;
    expect((await postWebhook(`${base}/once`, { id: 'msg_once_1' })).status).toBe(500);
    expect((await postWebhook(`${base}/once`, { id: 'msg_once_1' })).status).toBe(204);
    const duplicate = await postWebhook(`${base}/once`, { id: 'msg_once_1' });
    expect(duplicate).toMatchObject({ status: 200, body: { duplicate: true, webhook_id: 'msg_once_1' } });
    expect(handled.map((w) => w.id)).toEqual(['msg_once_1', 'msg_once_1']);
  });
});
