import type { IncomingMessage } from 'node:http';
import { WebhookVerificationError } from './errors.js';
import type { WebhookIdempotency } from './idempotency.js';
import type { VerifiedWebhook, WebhookOptions } from './webhook.js';

export interface WebhookMiddlewareOptions extends WebhookOptions {
  /** Largest body read, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Runs each `webhook-id` once: a message already processed is answered
   * 200 without calling your handler; one being processed right now, 409
   * (Gancho retries it later). The claim completes when your handler answers
   * 2xx and is released otherwise.
   */
  idempotency?: WebhookIdempotency;
}

export const defaultMaxBodyBytes = 1024 * 1024;

/** The answer to a refused webhook: 401 for a bad signature, 400 for a body that is not an event, as problem+json. */
export function refusal(error: WebhookVerificationError): { status: number; body: Record<string, unknown> } {
  const status = error.code === 'WEBHOOK_BODY_INVALID' ? 400 : 401;
  return { status, body: { type: 'about:blank', title: status === 401 ? 'Unauthorized' : 'Bad Request', status, code: error.code, detail: error.message } };
}

export const problemContentType = 'application/problem+json';

/** Raised when the framework parsed the body before we could read its bytes: a setup mistake. */
export class RawBodyUnavailableError extends Error {
  readonly code = 'RAW_BODY_UNAVAILABLE' as const;

  constructor(hint: string) {
    super(`The webhook's raw body is not available: ${hint}`);
    this.name = 'RawBodyUnavailableError';
  }
}

/** Reads a request's body as bytes, up to `limit`. */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new WebhookVerificationError('WEBHOOK_BODY_INVALID', `The body is larger than ${limit} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

const verifiedKey = Symbol.for('@gancho/webhooks.verified');

/** Attaches a verified webhook to the framework's request object. */
export function attachWebhook(request: object, webhook: VerifiedWebhook): void {
  Object.defineProperty(request, verifiedKey, { value: webhook, enumerable: false, configurable: true });
  (request as { webhook?: VerifiedWebhook }).webhook = webhook;
}

/**
 * The verified webhook of a request that went through one of our middlewares
 * (Express, Fastify, NestJS). Throws when it did not: a route outside the middleware.
 */
export function webhookOf(request: object): VerifiedWebhook {
  const webhook = (request as Record<symbol, VerifiedWebhook | undefined>)[verifiedKey];
  if (!webhook) throw new Error('No verified webhook on this request: is the route behind the @gancho/webhooks middleware?');
  return webhook;
}
