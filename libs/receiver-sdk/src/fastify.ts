import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isWebhookVerificationError } from './errors.js';
import { attachWebhook, defaultMaxBodyBytes, problemContentType, refusal, type WebhookMiddlewareOptions } from './middleware-core.js';
import { verifyWebhook } from './webhook.js';

export { webhookOf, type WebhookMiddlewareOptions } from './middleware-core.js';

const claimed = new WeakSet<FastifyRequest>();

/**
 * Fastify plugin: in the scope it is registered in, JSON bodies stay raw
 * bytes, and every route's request is verified before its handler (401 when
 * the signature does not match). The handler reads `webhookOf(request).event`.
 *
 *     app.register(async (scope) => {
 *       await scope.register(webhookPlugin, { secret });
 *       scope.post('/webhooks', async (request) => { const { event } = webhookOf(request); … });
 *     });
 *
 * Routes outside that scope keep Fastify's JSON parsing.
 */
export function webhookPlugin(fastify: FastifyInstance, options: WebhookMiddlewareOptions, done: (error?: Error) => void): void {
  const bodyLimit = options.maxBodyBytes ?? defaultMaxBodyBytes;
  fastify.removeContentTypeParser(['application/json']);
  fastify.addContentTypeParser(['application/json', '*'], { parseAs: 'buffer', bodyLimit }, (_request, body, parsed) => parsed(null, body));

  fastify.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    let webhook;
    try {
      webhook = verifyWebhook(body, request.headers, options);
    } catch (error) {
      if (!isWebhookVerificationError(error)) throw error;
      const answer = refusal(error);
      return reply.code(answer.status).type(problemContentType).send(answer.body);
    }
    attachWebhook(request, webhook);
    const idempotency = options.idempotency;
    if (!idempotency) return;
    const claim = await idempotency.claim(webhook.id);
    if (claim === 'done') return reply.code(200).send({ duplicate: true, webhook_id: webhook.id });
    if (claim === 'in_progress') {
      return reply.code(409).header('retry-after', '30').type(problemContentType).send({ type: 'about:blank', title: 'Conflict', status: 409, code: 'WEBHOOK_IN_PROGRESS', detail: 'This message is being processed' });
    }
    claimed.add(request);
  });

  fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const idempotency = options.idempotency;
    if (!idempotency || !claimed.has(request)) return;
    claimed.delete(request);
    const id = (request as { webhook?: { id: string } }).webhook?.id;
    if (id === undefined) return;
    if (reply.statusCode >= 200 && reply.statusCode < 300) await idempotency.complete(id);
    else await idempotency.release(id);
  });
  done();
}

// As fastify-plugin does: apply to the scope that registers the plugin, not to a child of it.
Object.assign(webhookPlugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: '@gancho/webhooks' });
