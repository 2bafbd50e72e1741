import type { IncomingMessage, ServerResponse } from 'node:http';
import { isWebhookVerificationError } from './errors.js';
import { defaultMaxBodyBytes, readBody, RawBodyUnavailableError, refusal, problemContentType, attachWebhook, type WebhookMiddlewareOptions } from './middleware-core.js';
import { verifyWebhook } from './webhook.js';

export { webhookOf, RawBodyUnavailableError, type WebhookMiddlewareOptions } from './middleware-core.js';

/** What an Express (4 or 5) request is to us; no import of express needed. */
type ExpressLikeRequest = IncomingMessage & { body?: unknown; rawBody?: unknown };
type Next = (error?: unknown) => void;

async function rawBodyOf(request: ExpressLikeRequest, limit: number): Promise<Buffer> {
  if (Buffer.isBuffer(request.body)) return request.body; // express.raw()
  if (Buffer.isBuffer(request.rawBody)) return request.rawBody; // NestJS { rawBody: true }, some hosts
  if (typeof request.body === 'string') return Buffer.from(request.body, 'utf8'); // express.text()
  if (request.readableEnded || (request.body !== undefined && typeof request.body === 'object')) {
    throw new RawBodyUnavailableError('a JSON parser read it first; mount this middleware before express.json(), or use express.raw({ type: "application/json" }) on the route');
  }
  return readBody(request, limit);
}

/**
 * Express middleware: verifies the Standard Webhooks signature on the raw
 * body and hands the typed event on (`webhookOf(req).event`, also `req.webhook`);
 * refuses with 401 (400 for a signed body that is not an event).
 *
 *     app.post('/webhooks', webhookMiddleware({ secret: process.env.GANCHO_SECRET }), (req, res) => {
 *       const { event } = webhookOf(req);
 *       res.sendStatus(204);
 *     });
 */
export function webhookMiddleware(options: WebhookMiddlewareOptions) {
  const limit = options.maxBodyBytes ?? defaultMaxBodyBytes;
  return (request: ExpressLikeRequest, response: ServerResponse, next: Next): void => {
    void (async () => {
      let webhook;
      try {
        const body = await rawBodyOf(request, limit);
        webhook = verifyWebhook(body, request.headers, options);
      } catch (error) {
        if (!isWebhookVerificationError(error)) return next(error);
        const answer = refusal(error);
        response.writeHead(answer.status, { 'content-type': problemContentType }).end(JSON.stringify(answer.body));
        return;
      }
      attachWebhook(request, webhook);
      request.body = webhook.event;
      const idempotency = options.idempotency;
      if (!idempotency) return next();
      const claim = await idempotency.claim(webhook.id);
      if (claim === 'done') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ duplicate: true, webhook_id: webhook.id }));
        return;
      }
      if (claim === 'in_progress') {
        response
          .writeHead(409, { 'content-type': problemContentType, 'retry-after': '30' })
          .end(JSON.stringify({ type: 'about:blank', title: 'Conflict', status: 409, code: 'WEBHOOK_IN_PROGRESS', detail: 'This message is being processed' }));
        return;
      }
      let settled = false;
      const settle = (succeeded: boolean) => {
        if (settled) return;
        settled = true;
        void (succeeded ? idempotency.complete(webhook.id) : idempotency.release(webhook.id)).catch(() => undefined);
      };
      response.on('finish', () => settle(response.statusCode >= 200 && response.statusCode < 300));
      response.on('close', () => settle(false));
      next();
    })().catch(next);
  };
}
