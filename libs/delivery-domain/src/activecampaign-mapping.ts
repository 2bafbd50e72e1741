import type { ActiveCampaignFieldKey, ActiveCampaignMappingV1, PurchaseStatusEventV1 } from '@gancho/contracts';
import { defaultRetryAfterBounds, parseRetryAfter, type AttemptDecision, type AttemptResult, type ResponseHeaders, type RetryAfterBounds } from './attempt-outcome';

/**
 * What a status event becomes in ActiveCampaign (AC), as pure data: the
 * contact to sync, its custom field values (by personalization tag), and the
 * tags to add. The adapter turns it into AC v3 calls; see docs/activecampaign.md.
 *
 * AC references relied on here:
 * - https://developers.activecampaign.com/reference/sync-a-contacts-data —
 *   POST /api/3/contact/sync "upserts": the contact is identified by the
 *   e-mail in the body, updated when it exists and created otherwise; body
 *   `{contact: {email, firstName, lastName, phone, fieldValues: [{field, value}]}}`
 *   where `field` is the custom field's id.
 * - AC API reference, "Create a tag" (POST /api/3/tags): tag names may not
 *   contain commas and are treated case-insensitively.
 */

/** A status event as the mapping reads it; `student.phone` is taken when a future payload carries it. */
export type ActiveCampaignStatusEvent = PurchaseStatusEventV1 & { student: PurchaseStatusEventV1['student'] & { phone?: string | null } };

export interface ActiveCampaignContact {
  email: string;
  firstName: string;
  /** Left out when the name has one word, so an existing last name is not blanked. */
  lastName?: string;
  phone?: string;
}

export interface ActiveCampaignFieldValue {
  key: ActiveCampaignFieldKey;
  /** The personalization tag that finds (or creates) the custom field, upper case. */
  perstag: string;
  /** The title a field created on first use gets. */
  title: string;
  value: string;
}

export interface ActiveCampaignUpdate {
  contact: ActiveCampaignContact;
  fields: ActiveCampaignFieldValue[];
  /** Tag names, each once (AC treats them case-insensitively). */
  tags: string[];
}

const fieldTitles: Record<ActiveCampaignFieldKey, string> = {
  course: 'Gancho: course',
  purchase_id: 'Gancho: purchase id',
  status: 'Gancho: purchase status',
  phase: 'Gancho: purchase phase',
  price: 'Gancho: course price',
};

/**
 * First name and last name from a full name: the first word, and the rest
 * ("Maria da Silva Santos" → "Maria" / "da Silva Santos"), which keeps
 * Brazilian family names with their particles whole. Whitespace is collapsed.
 */
export function splitStudentName(fullName: string): { firstName: string; lastName?: string } {
  const words = fullName.trim().split(/\s+/).filter(Boolean);
  const [first = '', ...rest] = words;
  return rest.length > 0 ? { firstName: first, lastName: rest.join(' ') } : { firstName: first };
}

/**
 * A phone number in E.164 form (`+5511987654321`), or undefined when it
 * cannot be one. Numbers without a country code are Brazilian: 10 or 11
 * digits (area code + number), optionally after a trunk `0`.
 */
export function normalizePhone(raw: string | null | undefined): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const text = raw.trim();
  let digits = text.replace(/\D/g, '');
  if (text.startsWith('+')) return digits.length >= 8 && digits.length <= 15 ? `+${digits}` : undefined;
  if (digits.startsWith('00')) digits = digits.slice(2);
  else if ((digits.length === 11 || digits.length === 12) && digits.startsWith('0')) digits = digits.slice(1);
  if (digits.length === 10 || digits.length === 11) return `+55${digits}`;
  if ((digits.length === 12 || digits.length === 13) && digits.startsWith('55')) return `+${digits}`;
  return undefined;
}

/** Minor units as a decimal amount (`1234500` → `"12345.00"`). */
export function formatPrice(priceCents: number): string {
  const sign = priceCents < 0 ? '-' : '';
  const cents = Math.abs(Math.trunc(priceCents));
  return `${sign}${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** The tags a status gets under a mapping: `<prefix><status>`, and the recovery tag on the recovery statuses. */
export function tagsFor(status: PurchaseStatusEventV1['status'], mapping: ActiveCampaignMappingV1): string[] {
  const tags: string[] = [];
  if (mapping.status_tags) tags.push(`${mapping.tag_prefix}${status}`);
  if (mapping.recovery_tag !== null && mapping.recovery_statuses.includes(status)) tags.push(mapping.recovery_tag);
  const seen = new Set<string>();
  return tags.filter((tag) => {
    const key = tag.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Everything one status event sets in ActiveCampaign under a mapping. */
export function activeCampaignUpdate(event: ActiveCampaignStatusEvent, mapping: ActiveCampaignMappingV1): ActiveCampaignUpdate {
  const phone = normalizePhone(event.student.phone);
  const contact: ActiveCampaignContact = { email: event.student.email, ...splitStudentName(event.student.name), ...(phone ? { phone } : {}) };
  const values: Record<ActiveCampaignFieldKey, string> = {
    course: event.course.name,
    purchase_id: event.purchase_id,
    status: event.status,
    phase: event.phase,
    price: formatPrice(event.course.price_cents),
  };
  const fields: ActiveCampaignFieldValue[] = [];
  for (const key of Object.keys(fieldTitles) as ActiveCampaignFieldKey[]) {
    const perstag = mapping.fields[key];
    if (perstag) fields.push({ key, perstag: perstag.toUpperCase(), title: fieldTitles[key], value: values[key] });
  }
  return { contact, fields, tags: tagsFor(event.status, mapping) };
}

/** The body of POST /api/3/contact/sync, with field ids resolved by perstag (a field without an id is left out). */
export function contactSyncBody(update: ActiveCampaignUpdate, fieldIds: ReadonlyMap<string, string>): { contact: ActiveCampaignContact & { fieldValues: { field: string; value: string }[] } } {
  const fieldValues = update.fields.flatMap((f) => {
    const id = fieldIds.get(f.perstag);
    return id === undefined ? [] : [{ field: id, value: f.value }];
  });
  return { contact: { ...update.contact, fieldValues } };
}

/**
 * ActiveCampaign's error text from a response body, for the attempt log and
 * the partner: the v3 error list `{errors: [{title, detail, code, source: {pointer}}]}`
 * (as AC's API reference shows for "Add a tag to a contact", POST /api/3/contactTags:
 * 404 `{errors: [{title: "Not Found", detail: "Contact not found"}]}`, 422
 * `{errors: [{title: "Missing attribute", source: {pointer: "/data/attributes/contact"}}]}`),
 * else `{message}`, else the raw text — bounded.
 */
export function activeCampaignErrorText(body: string, maxLength = 500): string {
  let text = body.trim();
  try {
    const parsed = JSON.parse(body) as { errors?: unknown; message?: unknown };
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
      text = parsed.errors
        .map((raw) => {
          const e = (raw ?? {}) as { title?: unknown; detail?: unknown; code?: unknown; source?: { pointer?: unknown } };
          const parts = [e.title, e.detail].filter((p): p is string => typeof p === 'string' && p !== '');
          const pointer = typeof e.source?.pointer === 'string' ? ` (${e.source.pointer})` : '';
          const code = typeof e.code === 'string' && e.code !== '' ? ` [${e.code}]` : '';
          return `${parts.join(': ') || 'error'}${pointer}${code}`;
        })
        .join('; ');
    } else if (typeof parsed.message === 'string') {
      text = parsed.message;
    }
  } catch {
    // Not JSON: the raw text is the best there is.
  }
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

export interface ActiveCampaignClassifyOptions {
  now: Date;
  retryAfterBounds?: RetryAfterBounds;
}

function header(headers: ResponseHeaders, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return typeof value === 'string' ? value : value?.[0];
  return undefined;
}

/**
 * What to do after an ActiveCampaign call answered (or did not):
 *
 * - 2xx: that call succeeded.
 * - 429: AC's limit is "5 requests per second per account"; its 429 carries
 *   `Retry-After` in seconds, after which traffic may resume
 *   (https://developers.activecampaign.com/reference/rate-limits). Retry then
 *   (bounded), else by the schedule.
 * - 401/403: AC authenticates every request by the `Api-Token` header
 *   (https://developers.activecampaign.com/reference/authentication); a
 *   refusal means the token is wrong or revoked, and no retry can fix it —
 *   disable the endpoint until the partner gives a new token.
 * - 422 (and 400): AC refused this message's data (an invalid e-mail, a
 *   missing attribute); sending it again changes nothing — fail it for good,
 *   with AC's error text in the log.
 * - 404: an id we cached (a tag, a field) may have been deleted in AC:
 *   retry (the adapter forgets its cache first).
 * - 3xx, other 4xx, 5xx, no response: retry by the schedule, as for webhooks.
 */
export function classifyActiveCampaignResult(result: AttemptResult, { now, retryAfterBounds = defaultRetryAfterBounds }: ActiveCampaignClassifyOptions): AttemptDecision {
  if (result.kind === 'error') {
    if (result.errorClass === 'ssrf_blocked' || result.errorClass === 'invalid_url') return { outcome: 'failed_permanently', reason: result.errorClass };
    return { outcome: 'retry', reason: result.errorClass };
  }
  const { status } = result;
  if (status >= 200 && status <= 299) return { outcome: 'succeeded' };
  if (status === 401 || status === 403) return { outcome: 'disable_endpoint', reason: 'unauthorized' };
  if (status === 400 || status === 422) return { outcome: 'failed_permanently', reason: 'rejected' };
  if (status === 429 || status === 503) {
    const reason = status === 429 ? 'rate_limited' : 'service_unavailable';
    const retryAfterMs = parseRetryAfter(header(result.headers, 'retry-after'), now, retryAfterBounds);
    return retryAfterMs === undefined ? { outcome: 'retry', reason } : { outcome: 'retry', reason, retryAfterMs };
  }
  if (status >= 300 && status <= 399) return { outcome: 'retry', reason: 'redirect' };
  if (status >= 400 && status <= 499) return { outcome: 'retry', reason: 'client_error' };
  if (status >= 500 && status <= 599) return { outcome: 'retry', reason: 'server_error' };
  return { outcome: 'retry', reason: 'unexpected_status' };
}

/**
 * The form of an AC event for a status (event tracking: `POST https://trackcmp.net/event`,
 * `application/x-www-form-urlencoded` with `actid`, `key`, `event` — at most 32
 * characters —, `eventdata` and `visit`, the JSON `{"email": …}` naming the
 * contact; AC's "Contact Event Tracking API Guide",
 * https://developers.activecampaign.com/reference/contact-event-tracking-api-guide).
 * The event is named after the status (28 characters at most), its data is the purchase id.
 */
export function activeCampaignEventForm(event: PurchaseStatusEventV1, tracking: { actid: string; eventKey: string }): string {
  return new URLSearchParams({
    actid: tracking.actid,
    key: tracking.eventKey,
    event: event.status.slice(0, 32),
    eventdata: event.purchase_id,
    visit: JSON.stringify({ email: event.student.email }),
  }).toString();
}

/** Whether the event-tracking endpoint accepted an event: it answers `{success: 1, message: "Event spawned"}`. */
export function activeCampaignEventAccepted(body: string): { accepted: boolean; message: string } {
  try {
    const parsed = JSON.parse(body) as { success?: unknown; message?: unknown };
    const message = typeof parsed.message === 'string' ? parsed.message : '';
    return { accepted: parsed.success === 1 || parsed.success === '1', message };
  } catch {
    return { accepted: false, message: body.slice(0, 200) };
  }
}

/** The partner-facing reason a refused token disables the endpoint. */
export function unauthorizedDetail(status: number, apiUrl: string, errorText: string): string {
  const said = errorText === '' ? '' : `: ${errorText}`;
  return `ActiveCampaign refused the API token (${status}) at ${apiUrl}${said}. Give the endpoint a valid token and re-enable it.`;
}
