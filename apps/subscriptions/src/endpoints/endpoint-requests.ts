import { z } from 'zod';
import { activeCampaignErasures, activeCampaignFieldKeys, defaultActiveCampaignMapping, endpointOrderings, purchaseStatuses } from '@gancho/contracts';
import { endpointAuthBody } from './endpoint-auth';
import { customHeaderNameProblems, customHeaderProblems, customHeaderValueProblems, eventTypeFilterProblems, maxCustomHeaders, maxUrlLength } from '@gancho/subscriptions-domain';

const eventTypes = z
  .array(z.string())
  .max(100)
  .superRefine((filter, context) => {
    for (const message of eventTypeFilterProblems(filter)) context.addIssue({ code: 'custom', message });
  })
  .describe('Exact types (purchase.made_effective), prefixes (purchase.*) or * for all; see GET /event-types.');

const headerRules = `Up to ${maxCustomHeaders} extra request headers (values ≤ 1 KiB, printable ASCII). Refused: hop-by-hop headers, Host, Content-Length, Content-Type, Content-Encoding, Transfer-Encoding, Expect and webhook-*.`;
const headerSecrecy =
  'Values may be your receiver\'s credentials: they are stored and published encrypted and never shown again; endpoints answer `headers: {"<name>": {"value_last4": "…"}}` (null for a value shorter than 12 characters).';

const headers = z
  .record(z.string(), z.string())
  .superRefine((value, context) => {
    for (const message of customHeaderProblems(value)) context.addIssue({ code: 'custom', message });
  })
  .describe(`${headerRules} ${headerSecrecy}`);

/** On update, per header: a value sets it (replacing the current one of that name), null removes it, and a header left out keeps its value. */
const headersPatch = z
  .record(z.string(), z.string().nullable())
  .superRefine((value, context) => {
    // The count is checked on the headers the endpoint ends up with (by the domain).
    for (const message of customHeaderNameProblems(Object.keys(value))) context.addIssue({ code: 'custom', message });
    for (const [name, headerValue] of Object.entries(value)) {
      if (headerValue !== null) for (const message of customHeaderValueProblems(name, headerValue)) context.addIssue({ code: 'custom', message });
    }
  })
  .describe(
    `Changes headers one by one: \`{"Authorization": "Bearer new"}\` sets (or replaces) that header, \`{"X-Old": null}\` removes it, and every header not named keeps its current value, so a PATCH never needs to resend values. ${headerRules} ${headerSecrecy}`,
  );

// Text that PostgreSQL cannot store (U+0000, lone surrogates) is refused for every field at the edge (refuseUnstorableText).
const description = z.string().max(500);

// Checked in full (shape, and every field against the subscribed types' webhook schemas) by the domain when saved.
const payloadFilter = z
  .record(z.string(), z.unknown())
  .nullable()
  .describe(
    'Only events whose `data` this filter matches are delivered; null for every event of event_types. Field paths are dotted (`course.id`); a value is equality, or an object of operators `$eq $ne $in $nin $gt $gte $lt $lte $exists`; `$and`/`$or` take lists of filters, `$not` one. Example: `{"course.id": "crs_1", "course.price_cents": {"$gte": 100000}}`. A path that none of the subscribed event types has, or a value of the wrong type, is refused with 422 INVALID_PAYLOAD_FILTER. See docs/filters.md.',
  );

const url = z.string().min(1).max(maxUrlLength).describe('https:// URL on the public internet; no user:password@.');
const rateLimit = z.number().int().min(1).max(10_000).nullable().describe('At most this many deliveries per second; null for no limit.');
const includePersonalData = z.boolean().describe("false: webhooks carry the student's pseudonymous id only (`student: { id }`), never name or e-mail, for partners that only need statuses (LGPD minimisation).");
const ordering = z.enum(endpointOrderings).describe('"none": each event as soon as it can go; "per_purchase": the events of one purchase in their order, each after the one before is delivered or skipped.');

const defaults = defaultActiveCampaignMapping();
// ActiveCampaign refuses commas in tag names ("Create a tag", developers.activecampaign.com).
const withoutComma = /^[^,]*$/;
const tagName = z.string().min(1).max(200).regex(withoutComma, 'must not contain commas');
const perstag = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a personalization tag: letters, digits and _, starting with a letter')
  .nullable();
const fieldsShape = Object.fromEntries(activeCampaignFieldKeys.map((key) => [key, perstag.default(defaults.fields[key])])) as Record<(typeof activeCampaignFieldKeys)[number], z.ZodDefault<typeof perstag>>;

export const activeCampaignMapping = z
  .strictObject({
    tag_prefix: z.string().max(100).regex(withoutComma, 'must not contain commas').default(defaults.tag_prefix).describe('Each status tags the contact `<tag_prefix><status>`.'),
    status_tags: z.boolean().default(defaults.status_tags).describe('Add a tag per status.'),
    recovery_tag: tagName.nullable().default(defaults.recovery_tag).describe('Added on the recovery statuses, for a cart-recovery automation; null for none.'),
    recovery_statuses: z.array(z.enum(purchaseStatuses)).max(purchaseStatuses.length).default(defaults.recovery_statuses).describe('The statuses that get the recovery tag.'),
    fields: z.strictObject(fieldsShape).default(defaults.fields).describe('The custom field (by personalization tag) each value is written to; null leaves it out. Missing fields are created on first use.'),
  })
  .describe('How status events become ActiveCampaign data; every key has a default (see docs/activecampaign.md).');
export type ActiveCampaignMappingBody = z.infer<typeof activeCampaignMapping>;

const apiToken = z
  .string()
  .min(20)
  .max(512)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
  .describe('The API token (Settings → Developer in ActiveCampaign). Stored encrypted; shown only as its last four characters.');
const apiUrl = z.string().min(1).max(maxUrlLength).describe("The account's API URL, e.g. https://<account>.api-us1.com (Settings → Developer).");

const eventTracking = z
  .strictObject({
    actid: z
      .string()
      .regex(/^\d{1,20}$/, 'the account id of event tracking (digits)')
      .describe('Website → Site Tracking → Event Tracking in ActiveCampaign.'),
    event_key: z
      .string()
      .min(20)
      .max(200)
      .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
      .describe('The event key (same page). Stored encrypted; shown only as its last four characters.'),
  })
  .nullable()
  .describe('Optional, off by default: also record each status as an ActiveCampaign event named after it. null turns it off.');

const webhookDestination = z.strictObject({ type: z.literal('webhook') }).describe('Signed HTTP POSTs to `url` (the default).');
const activeCampaignDestination = z
  .strictObject({
    type: z.literal('activecampaign'),
    api_url: apiUrl,
    api_token: apiToken,
    mapping: activeCampaignMapping.optional(),
    event_tracking: eventTracking.optional(),
    on_erasure: z
      .enum(activeCampaignErasures)
      .optional()
      .describe('When a student\'s personal data is erased (LGPD): "delete" deletes the contact Gancho synced in the account; "keep" (the default) leaves it, for the school to handle.'),
  })
  .describe("Status events go to an ActiveCampaign account: contacts synced by e-mail, custom fields, tags. The endpoint's url is the api_url.");
/** On update the token may be left out to keep the current one, as long as the api_url stays the same. */
const activeCampaignDestinationUpdate = activeCampaignDestination.extend({ api_token: apiToken.optional() });

const destinationOnCreate = z.discriminatedUnion('type', [webhookDestination, activeCampaignDestination]);
const destinationOnUpdate = z.discriminatedUnion('type', [webhookDestination, activeCampaignDestinationUpdate]);
export type DestinationBody = z.infer<typeof destinationOnUpdate>;

export const createEndpointBody = z
  .strictObject({
    url: url.optional().describe('Required for a webhook; left out for ActiveCampaign (its api_url is the URL).'),
    destination: destinationOnCreate.default({ type: 'webhook' }),
    description: description.default(''),
    event_types: eventTypes,
    enabled: z.boolean().default(true),
    headers: headers.default({}),
    rate_limit_per_second: rateLimit.default(null),
    // Left out: "none" for a webhook; "per_purchase" for ActiveCampaign, so a contact's fields end on the latest status.
    ordering: ordering.optional(),
    payload_filter: payloadFilter.default(null),
    auth: endpointAuthBody.nullable().default(null),
    include_personal_data: includePersonalData.default(true),
  })
  .superRefine((body, context) => {
    if (body.destination.type === 'webhook' && body.url === undefined) context.addIssue({ code: 'custom', path: ['url'], message: 'a webhook endpoint needs a url' });
    if (body.destination.type === 'activecampaign') {
      if (body.url !== undefined) context.addIssue({ code: 'custom', path: ['url'], message: 'leave url out: an ActiveCampaign endpoint uses destination.api_url' });
      if (Object.keys(body.headers).length > 0) context.addIssue({ code: 'custom', path: ['headers'], message: 'an ActiveCampaign destination takes no custom headers' });
      if (!body.include_personal_data) context.addIssue({ code: 'custom', path: ['include_personal_data'], message: "an ActiveCampaign destination needs the student's personal data" });
    }
  });
export type CreateEndpointBody = z.infer<typeof createEndpointBody>;

/** Every field optional; `enabled: true` re-enables an endpoint disabled for any reason. */
export const updateEndpointBody = z.strictObject({
  url: url.optional(),
  destination: destinationOnUpdate.optional().describe('Replaces the destination; for ActiveCampaign, api_token may be left out to keep the current one while api_url stays the same.'),
  description: description.optional(),
  event_types: eventTypes.optional(),
  enabled: z.boolean().optional(),
  headers: headersPatch.optional(),
  rate_limit_per_second: rateLimit.optional(),
  ordering: ordering.optional(),
  payload_filter: payloadFilter.optional(),
  auth: endpointAuthBody.nullable().optional().describe('Replaces the whole auth (null removes it); left out, it is kept.'),
  include_personal_data: includePersonalData.optional(),
});
export type UpdateEndpointBody = z.infer<typeof updateEndpointBody>;
