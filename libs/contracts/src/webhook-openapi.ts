import { eventTypes, personalDataErasedEventType, statusOfEventType, type WebhookEventType } from './event-types';
import { exampleOperationalPayload, operationalEventDescriptions, operationalEventTypes, operationalWebhookSchema } from './operational-event-types';
import { examplePersonalDataErasedPayload, personalDataErasedWebhookSchema } from './personal-data-webhook';
import { describeStatus } from './status-catalog';
import { exampleWebhookPayload, webhookPayloadSchema, type JsonSchema } from './webhook-payload';

/** The name of a webhook body's schema in an OpenAPI document's `components.schemas`. */
export function webhookSchemaName(type: WebhookEventType): string {
  return `webhook.${type}`;
}

const signatureHeaders = [
  { name: 'webhook-id', description: 'The message id (msg_…): the same on every redelivery; de-duplicate on it.', example: 'msg_2pT6Vq8yZkYf3b1wW0rA9cN4dE' },
  { name: 'webhook-timestamp', description: 'Unix seconds when this attempt was signed; refuse one far from your clock (replay).', example: '1795807727' },
  { name: 'webhook-signature', description: 'Standard Webhooks signatures (v1,<base64 HMAC-SHA256>), space separated; two during a secret rotation.', example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=' },
].map(({ name, description, example }) => ({ name, in: 'header', required: true, description, schema: { type: 'string' }, example }));

/**
 * The OpenAPI 3.1 `webhooks` of the 41 event types, and the schemas they
 * refer to: the same JSON Schema (2020-12) and example as the event-type
 * catalog serves, by reference, so there is one definition of each body.
 */
export function webhookOpenApi(): { webhooks: Record<string, unknown>; schemas: Record<string, JsonSchema> } {
  const webhooks: Record<string, unknown> = {};
  const schemas: Record<string, JsonSchema> = {};
  for (const type of eventTypes) {
    const { $schema: _dialect, ...schema } = webhookPayloadSchema(type);
    schemas[webhookSchemaName(type)] = schema;
    webhooks[type] = {
      post: {
        operationId: `webhook_${type.replace(/\W/g, '_')}`,
        summary: `${type}: ${describeStatus(statusOfEventType(type))}`,
        description: 'POSTed to every enabled endpoint subscribed to this type, signed with the endpoint’s secret (Standard Webhooks). Retried on any answer but 2xx, with backoff; a 410 disables the endpoint.',
        tags: ['webhooks'],
        parameters: signatureHeaders,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: `#/components/schemas/${webhookSchemaName(type)}` }, example: exampleWebhookPayload(type) } },
        },
        responses: {
          '2XX': { description: 'Received: delivered, nothing is sent again.' },
          '410': { description: 'Gone: the endpoint is disabled and nothing more is sent to it.' },
          default: { description: 'Anything else (or no answer in time): the message is tried again later.' },
        },
      },
    };
  }
  const { $schema: _dialect, ...erased } = personalDataErasedWebhookSchema();
  schemas[webhookSchemaName(personalDataErasedEventType)] = erased;
  webhooks[personalDataErasedEventType] = {
    post: {
      operationId: `webhook_${personalDataErasedEventType.replace(/\W/g, '_')}`,
      summary: `${personalDataErasedEventType}: a student's personal data was erased (LGPD); erase your copy`,
      description:
        'POSTed, once per purchase of the erased student, to every enabled endpoint of the partner subscribed to this type (or to purchase.* or *), signed like every webhook. Not a status: the purchase keeps its status.',
      tags: ['webhooks'],
      parameters: signatureHeaders,
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { $ref: `#/components/schemas/${webhookSchemaName(personalDataErasedEventType)}` }, example: examplePersonalDataErasedPayload() } },
      },
      responses: {
        '2XX': { description: 'Received: delivered, nothing is sent again.' },
        '410': { description: 'Gone: the endpoint is disabled and nothing more is sent to it.' },
        default: { description: 'Anything else (or no answer in time): the message is tried again later.' },
      },
    },
  };
  for (const type of operationalEventTypes) {
    const { $schema: _dialect, ...schema } = operationalWebhookSchema(type);
    schemas[`webhook.${type}`] = schema;
    webhooks[type] = {
      post: {
        operationId: `webhook_${type.replace(/\W/g, '_')}`,
        summary: `${type} (operational): ${operationalEventDescriptions[type]}`,
        description:
          'POSTed to every enabled endpoint of the partner whose event-type filter names this type (or `endpoint.*` / `message.*`; `*` does not), but never to the endpoint it is about; signed with the receiving endpoint’s secret (Standard Webhooks) and retried like any webhook.',
        tags: ['operational webhooks'],
        parameters: signatureHeaders,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: `#/components/schemas/webhook.${type}` }, example: exampleOperationalPayload(type) } },
        },
        responses: {
          '2XX': { description: 'Received: delivered, nothing is sent again.' },
          default: { description: 'Anything else (or no answer in time): the message is tried again later.' },
        },
      },
    };
  }
  return { webhooks, schemas };
}
