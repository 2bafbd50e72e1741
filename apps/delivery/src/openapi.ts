import type { OpenApiInfo } from '@gancho/service-kit';

export const deliveryOpenApi: OpenApiInfo = {
  title: 'Gancho delivery API',
  description:
    'What was sent to your endpoints, when, and what they answered: the message log with every attempt, resend, recovery of a time window, test sends and endpoint statistics. Authenticate with your partner API key.',
  version: '1.0.0',
  bearerSchemes: ['partner'],
};
