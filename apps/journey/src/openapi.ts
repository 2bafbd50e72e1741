import type { OpenApiInfo } from '@gancho/service-kit';

export const journeyOpenApi: OpenApiInfo = {
  title: 'Gancho journey API',
  description:
    "The system of record for student purchase journeys. The checkout platform opens purchases and moves them through the journey one command at a time; every status change is published to journey.purchase-status.v2 (the student sealed under their own key) and fanned out to partner webhooks. The students routes find and erase a student's personal data (LGPD): erasure destroys the key, so every stored and published copy becomes unreadable.",
  version: '1.0.0',
  bearerSchemes: ['platform'],
};
