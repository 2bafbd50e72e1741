import { examplePayload, type EventType, type PurchaseStatusEventV1 } from '@gancho/contracts';
import { webhookBodyFor } from '@gancho/delivery-domain';

/** Message ids of test sends (`POST /endpoints/:id/test`) start with this; no status event's message does. */
export const testMessageIdPrefix = 'msg_test_';

export function isTestMessageId(messageId: string): boolean {
  return messageId.startsWith(testMessageIdPrefix);
}

/** The status event a test send carries: the type's documented example, as the partner's own. */
export function testStatusEvent(type: EventType, partnerId: string): PurchaseStatusEventV1 {
  return { ...examplePayload(type).data, partner_id: partnerId };
}

/** The exact body a test send delivers; the same for every test send of the type to the partner, so the live stream can rebuild it. */
export function testWebhookBody(type: EventType, partnerId: string): string {
  return webhookBodyFor(testStatusEvent(type, partnerId), type);
}
