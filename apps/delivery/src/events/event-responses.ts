import { eventTypes } from '@gancho/contracts';
import { z } from 'zod';
import { messageStatuses } from '../messages/message-responses';

// What the events API answers, for its OpenAPI document (and the console's generated types). Open objects, as the
// message log's: a field added later does not break a client built from today's document.

const instant = z.string().describe('RFC 3339, UTC.');

export const eventDeliveryResponse = z.looseObject({
  endpoint_id: z.string(),
  message_id: z.string().describe('The webhook-id of the deliveries to this endpoint; resend with POST /messages/{id}/resend.'),
  status: z.enum(messageStatuses),
  attempt_count: z.number().int(),
  last_attempt_at: instant.nullable(),
  last_status_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  next_attempt_at: instant.nullable(),
});

export const statusEventResponse = z.looseObject({
  event_id: z.string().describe('The status event (its CloudEvents id); the same for every endpoint it went to.'),
  type: z.enum(eventTypes),
  occurred_at: instant.describe('When the status changed (the webhook’s timestamp).'),
  purchase_id: z.string(),
  sequence: z.number().int().describe('The purchase’s status sequence.'),
  data: z.record(z.string(), z.unknown()).describe('The webhook’s data, exactly as the endpoints that take this type receive it.'),
  deliveries: z.array(eventDeliveryResponse).describe('One per endpoint the event was routed to when it happened (none when no endpoint took its type); the state of each is the message’s now.'),
});

export const statusEventPageResponse = z.looseObject({
  items: z.array(statusEventResponse),
  next_cursor: z.string().nullable().describe('Pass as `cursor` (with the same filters) for the next, older page; null on the last page.'),
});
