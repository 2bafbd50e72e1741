import type { EventType, PurchaseStatusEventV1 } from '@gancho/contracts';
import { signWebhook, type WebhookHeaders } from '@gancho/webhook-signing';
import { webhookBodyFor } from './webhook-body';

export interface WebhookRequestInput {
  /** From `messageIdFor`; becomes `webhook-id`. */
  messageId: string;
  statusEvent: PurchaseStatusEventV1;
  type: EventType;
  /** The endpoint's secrets: one, or two during a rotation. */
  secrets: readonly string[];
  /** When this attempt is sent. */
  sentAt: Date;
}

export interface WebhookRequest {
  body: string;
  headers: WebhookHeaders & { 'content-type': 'application/json' };
}

/**
 * What one attempt sends. The id and body are the same on every attempt; the
 * `webhook-timestamp` is the time of this attempt, not of the event, because
 * receivers refuse timestamps more than a few minutes from their clock and a
 * retry may come days later.
 */
export function webhookRequestFor({ messageId, statusEvent, type, secrets, sentAt }: WebhookRequestInput): WebhookRequest {
  const body = webhookBodyFor(statusEvent, type);
  return { body, headers: { ...signWebhook({ id: messageId, timestamp: sentAt, body, secrets }), 'content-type': 'application/json' } };
}
