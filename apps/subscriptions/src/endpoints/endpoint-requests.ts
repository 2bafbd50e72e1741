import { z } from 'zod';
import { endpointOrderings } from '@gancho/contracts';
import { customHeaderProblems, eventTypeFilterProblems, maxCustomHeaders, maxUrlLength } from './domain/endpoint-rules';

const eventTypes = z
  .array(z.string())
  .max(100)
  .superRefine((filter, context) => {
    for (const message of eventTypeFilterProblems(filter)) context.addIssue({ code: 'custom', message });
  })
  .describe('Exact types (purchase.made_effective), prefixes (purchase.*) or * for all; see GET /event-types.');

const headers = z
  .record(z.string(), z.string())
  .superRefine((value, context) => {
    for (const message of customHeaderProblems(value)) context.addIssue({ code: 'custom', message });
  })
  .describe(
    `Up to ${maxCustomHeaders} extra request headers (values ≤ 1 KiB, printable ASCII). Refused: hop-by-hop headers, Host, Content-Length, Content-Type, Content-Encoding, Transfer-Encoding, Expect and webhook-*.`,
  );

/** PostgreSQL's jsonb cannot hold U+0000: refuse it at the edge (400) rather than fail at the insert (500). */
// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
const withoutNul = /^[^\u0000]*$/;
const description = z.string().max(500).regex(withoutNul, 'must not contain U+0000');

const url = z.string().min(1).max(maxUrlLength).describe('https:// URL on the public internet; no user:password@.');
const rateLimit = z.number().int().min(1).max(10_000).nullable().describe('At most this many deliveries per second; null for no limit.');
const ordering = z.enum(endpointOrderings).describe('Reserved: "per_purchase" will keep each purchase’s events in order.');

export const createEndpointBody = z.strictObject({
  url,
  description: description.default(''),
  event_types: eventTypes,
  enabled: z.boolean().default(true),
  headers: headers.default({}),
  rate_limit_per_second: rateLimit.default(null),
  ordering: ordering.default('none'),
});
export type CreateEndpointBody = z.infer<typeof createEndpointBody>;

/** Every field optional; `enabled: true` re-enables an endpoint disabled for any reason. */
export const updateEndpointBody = z.strictObject({
  url: url.optional(),
  description: description.optional(),
  event_types: eventTypes.optional(),
  enabled: z.boolean().optional(),
  headers: headers.optional(),
  rate_limit_per_second: rateLimit.optional(),
  ordering: ordering.optional(),
});
export type UpdateEndpointBody = z.infer<typeof updateEndpointBody>;
