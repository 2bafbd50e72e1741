export * from './errors.js';
export * from './generated/event-types.js';
export {
  computeSignature,
  defaultToleranceSeconds,
  secretKey,
  signWebhook,
  verifySignature,
  type HeadersLike,
  type RawBody,
  type SignedHeaders,
  type SignInput,
  type VerifiedSignature,
  type VerifyInput,
} from './signature.js';
export * from './webhook.js';
export * from './idempotency.js';
export { webhookOf, RawBodyUnavailableError, type WebhookMiddlewareOptions } from './middleware-core.js';
