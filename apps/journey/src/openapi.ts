import type { OpenApiInfo } from '@gancho/service-kit';

export const journeyOpenApi: OpenApiInfo = {
  title: 'Gancho journey API',
  description:
    'The system of record for student purchase journeys. The checkout platform opens purchases and moves them through the journey one command at a time; every status change is published to journey.purchase-status.v1 and fanned out to partner webhooks.',
  version: '1.0.0',
  bearerSchemes: ['platform'],
};
