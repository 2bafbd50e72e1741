import { webhookOpenApi } from '@gancho/contracts';
import type { OpenApiInfo } from '@gancho/service-kit';

const { webhooks, schemas } = webhookOpenApi();

export const subscriptionsOpenApi: OpenApiInfo = {
  title: 'Gancho subscriptions API',
  description:
    'Where partner schools say where and what they want to be told. Partners (bearer: their API key, gk_live_…) manage webhook endpoints, read and rotate signing secrets and read each endpoint’s audit trail; the event-type catalog is public. Gancho’s operators (bearer: an admin token) manage partners and their API keys, and issue portal sessions: short-lived, partner-scoped tokens (API keys with an expiry) that let a partner dashboard embed the console; every partner API accepts them until they expire. The `webhooks` section is the contract of what Gancho POSTs to the endpoints: one body per event type, signed per Standard Webhooks.',
  version: '1.0.0',
  bearerSchemes: ['partner', 'admin'],
  webhooks,
  schemas,
};
