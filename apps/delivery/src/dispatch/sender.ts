import type { SendResult, WebhookRequest } from '@gancho/webhook-sender';

/** What the dispatcher needs of an HTTP client: the SSRF-guarded undici sender of `@gancho/webhook-sender`. */
export interface WebhookSenderPort {
  send(request: WebhookRequest): Promise<SendResult>;
  close(): Promise<void>;
}

export const WEBHOOK_SENDER = Symbol('WEBHOOK_SENDER');
