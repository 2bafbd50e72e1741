import { z } from 'zod';
import { durationMs } from '@gancho/service-kit';

const minute = 60 * 1000;

/** Configuration of portal sessions (merged into the service's schema). */
export const portalConfigShape = {
  /** How long a portal session lasts when the operator does not say. */
  PORTAL_SESSION_TTL_MS: durationMs(15 * minute),
  /** The longest portal session an operator may ask for. */
  PORTAL_SESSION_MAX_TTL_MS: durationMs(60 * minute),
  /** Where the partner console is served (e.g. https://console.gancho.example); the answer's `url` is built from it. */
  CONSOLE_URL: z.url().optional(),
};
