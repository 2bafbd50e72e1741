import {
  activeCampaignErrorText,
  activeCampaignEventAccepted,
  classifyActiveCampaignResult,
  contactSyncBody,
  defaultRetryAfterBounds,
  type ActiveCampaignUpdate,
  type AttemptDecision,
  type AttemptErrorClass,
} from '@gancho/delivery-domain';
import type { SendResult, WebhookRequest } from '@gancho/webhook-sender';
import type { ActiveCampaignRateLimiter } from './activecampaign-rate-limiter';

/** What the client needs of an HTTP client: the SSRF-guarded undici sender of `@gancho/webhook-sender`. */
export interface ActiveCampaignHttp {
  send(request: WebhookRequest): Promise<SendResult>;
}

export interface ActiveCampaignAccount {
  /** https://<account>.api-us1.com — also the key of the account's rate limit and id caches. */
  apiUrl: string;
  /** Sent only as the `Api-Token` header; never logged, never in a snippet. */
  apiToken: string;
}

/** One HTTP call of an attempt, for the attempt log. */
export interface ActiveCampaignCall {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  status: number | null;
  errorClass: AttemptErrorClass | null;
  /** AC's error text (bounded) for a failed call. */
  errorText: string | null;
  elapsedMs: number;
}

/** How applying one update ended. */
export type ApplyOutcome =
  /** Nothing was sent: the account's next free request slot is too far away; try the message again then, without counting an attempt. */
  | { kind: 'postpone'; delayMs: number; calls: [] }
  | { kind: 'applied'; calls: ActiveCampaignCall[]; /** The contact synced (absent for a deletion). */ contactId?: string }
  /** A call failed (or no slot came in time mid-way): the decision for the attempt, from that call. */
  | { kind: 'failed'; calls: ActiveCampaignCall[]; decision: AttemptDecision; failedCall: ActiveCampaignCall | null };

export interface ApplyBudget {
  /** ms since the epoch after which no new call is started. */
  startCallsBy: number;
  /** The most to wait for the first slot before giving the message back. */
  maxFirstWaitMs: number;
}

class CallFailed extends Error {
  constructor(
    readonly decision: AttemptDecision,
    readonly call: ActiveCampaignCall | null,
  ) {
    super('ActiveCampaign call failed');
  }
}

class Postponed extends Error {
  constructor(readonly delayMs: number) {
    super('postponed');
  }
}

interface AccountCache {
  /** Custom field id by perstag (upper case). */
  fields: Map<string, string> | undefined;
  loadingFields: Promise<Map<string, string>> | undefined;
  creatingFields: Map<string, Promise<string>>;
  /** Tag id by lower-case name. */
  tags: Map<string, string>;
  creatingTags: Map<string, Promise<string>>;
}

/**
 * Applies an `ActiveCampaignUpdate` to an account through AC's v3 API:
 *
 * 1. custom fields by perstag: listed once per account (GET /api/3/fields,
 *    `limit`/`offset`, `{fields, meta: {total}}`); a missing one is created
 *    (POST /api/3/fields `{field: {title, type: "text", perstag}}`) and
 *    related to all lists (POST /api/3/fieldRels `{fieldRel: {field, relid: 0}}`)
 *    so it shows on every contact (AC reference, "Create a custom field" and
 *    the "Contact custom fields" guide,
 *    https://developers.activecampaign.com/reference/contact-custom-fields-api-guide);
 * 2. the contact, by e-mail (POST /api/3/contact/sync, "upserts" by e-mail,
 *    https://developers.activecampaign.com/reference/sync-a-contacts-data), with
 *    the field values by field id; its answer carries `contact.id`;
 * 3. each tag: found by GET /api/3/tags?search= (a substring search: the exact
 *    name is picked, case-insensitively) or created (POST /api/3/tags
 *    `{tag: {tag, tagType: "contact", description}}`), then added
 *    (POST /api/3/contactTags `{contactTag: {contact, tag}}`).
 *
 * Every request is authenticated by the `Api-Token` header
 * (https://developers.activecampaign.com/reference/authentication) and waits
 * for a slot of the account's shared rate limit. Field and tag ids are cached
 * per account in this process; a 404 (something deleted in AC) forgets them.
 * The first failing call ends the attempt with its classification.
 */
export class ActiveCampaignClient {
  private readonly caches = new Map<string, AccountCache>();

  constructor(
    private readonly http: ActiveCampaignHttp,
    private readonly limiter: ActiveCampaignRateLimiter,
    private readonly options: { maxResponseBytes?: number; sleep?: (ms: number) => Promise<void> } = {},
  ) {}

  /**
   * Applies the update; with `event`, then records it as an AC event (event
   * tracking: a form POSTed to the tracking URL with the account's id and
   * event key, no Api-Token; counted in the account's rate limit too).
   */
  async apply(account: ActiveCampaignAccount, update: ActiveCampaignUpdate, budget: ApplyBudget, event?: { url: string; form: string; eventKey: string }): Promise<ApplyOutcome> {
    const calls: ActiveCampaignCall[] = [];
    const session = { account, calls, budget, first: true };
    try {
      const fieldIds = update.fields.length > 0 ? await this.fieldIds(session, update) : new Map<string, string>();
      const synced = await this.call<{ contact?: { id?: unknown } }>(session, 'POST', '/api/3/contact/sync', contactSyncBody(update, fieldIds));
      const contactId = String(synced.contact?.id ?? '');
      if (contactId === '') throw new CallFailed({ outcome: 'retry', reason: 'unexpected_status' }, calls.at(-1) ?? null);
      for (const tag of update.tags) {
        const tagId = await this.tagId(session, tag);
        await this.call(session, 'POST', '/api/3/contactTags', { contactTag: { contact: contactId, tag: tagId } });
      }
      if (event) await this.recordEvent(session, event);
      return { kind: 'applied', calls, contactId };
    } catch (error) {
      if (error instanceof Postponed) return { kind: 'postpone', delayMs: error.delayMs, calls: [] };
      if (error instanceof CallFailed) return { kind: 'failed', calls, decision: error.decision, failedCall: error.call };
      throw error;
    }
  }

  /**
   * Deletes contacts by id (DELETE /api/3/contacts/{id},
   * https://developers.activecampaign.com/reference/delete-contact): a
   * student's erasure. A contact already gone (404) counts as deleted.
   */
  async deleteContacts(account: ActiveCampaignAccount, contactIds: readonly string[], budget: ApplyBudget): Promise<ApplyOutcome> {
    const calls: ActiveCampaignCall[] = [];
    const session = { account, calls, budget, first: true };
    try {
      for (const id of contactIds) {
        try {
          await this.call(session, 'DELETE', `/api/3/contacts/${encodeURIComponent(id)}`);
        } catch (error) {
          if (!(error instanceof CallFailed && error.call?.status === 404)) throw error;
        }
      }
      return { kind: 'applied', calls };
    } catch (error) {
      if (error instanceof Postponed) return { kind: 'postpone', delayMs: error.delayMs, calls: [] };
      if (error instanceof CallFailed) return { kind: 'failed', calls, decision: error.decision, failedCall: error.call };
      throw error;
    }
  }

  /** Forgets what this process knows of an account's ids (tests, and a 404). */
  forget(apiUrl: string): void {
    this.caches.delete(apiUrl);
  }

  private cacheOf(apiUrl: string): AccountCache {
    let cache = this.caches.get(apiUrl);
    if (!cache) this.caches.set(apiUrl, (cache = { fields: undefined, loadingFields: undefined, creatingFields: new Map(), tags: new Map(), creatingTags: new Map() }));
    return cache;
  }

  private async fieldIds(session: Session, update: ActiveCampaignUpdate): Promise<Map<string, string>> {
    const cache = this.cacheOf(session.account.apiUrl);
    let known = cache.fields;
    if (!known) {
      // One listing per account at a time: concurrent attempts share it.
      cache.loadingFields ??= this.listFields(session).finally(() => (cache.loadingFields = undefined));
      known = cache.fields = await cache.loadingFields;
    }
    for (const field of update.fields) {
      if (known.has(field.perstag)) continue;
      // One creation per field at a time, so two attempts never create the same field twice.
      let pending = cache.creatingFields.get(field.perstag);
      if (!pending) {
        pending = this.createField(session, field).finally(() => cache.creatingFields.delete(field.perstag));
        cache.creatingFields.set(field.perstag, pending);
      }
      known.set(field.perstag, await pending);
    }
    return known;
  }

  private async createField(session: Session, field: ActiveCampaignUpdate['fields'][number]): Promise<string> {
    const created = await this.call<{ field?: { id?: unknown } }>(session, 'POST', '/api/3/fields', {
      field: { title: field.title, type: 'text', perstag: field.perstag, descript: 'Written by Gancho from purchase status events.' },
    });
    const id = String(created.field?.id ?? '');
    if (id === '') throw new CallFailed({ outcome: 'retry', reason: 'unexpected_status' }, session.calls.at(-1) ?? null);
    await this.call(session, 'POST', '/api/3/fieldRels', { fieldRel: { field: id, relid: 0 } });
    return id;
  }

  private async listFields(session: Session): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (let offset = 0; ; offset += 100) {
      const page = await this.call<{ fields?: { id?: unknown; perstag?: unknown }[]; meta?: { total?: unknown } }>(session, 'GET', `/api/3/fields?limit=100&offset=${offset}`);
      const fields = page.fields ?? [];
      for (const field of fields) if (typeof field.perstag === 'string') found.set(field.perstag.toUpperCase(), String(field.id));
      if (fields.length < 100 || offset + fields.length >= Number(page.meta?.total ?? 0)) return found;
    }
  }

  private async tagId(session: Session, name: string): Promise<string> {
    const cache = this.cacheOf(session.account.apiUrl);
    const key = name.toLowerCase();
    const known = cache.tags.get(key);
    if (known) return known;
    // One look-up (and creation) per tag at a time, so two attempts never create the same tag twice.
    let pending = cache.creatingTags.get(key);
    if (!pending) {
      pending = this.findOrCreateTag(session, name).finally(() => cache.creatingTags.delete(key));
      cache.creatingTags.set(key, pending);
    }
    const id = await pending;
    cache.tags.set(key, id);
    return id;
  }

  private async findOrCreateTag(session: Session, name: string): Promise<string> {
    const found = await this.call<{ tags?: { id?: unknown; tag?: unknown }[] }>(session, 'GET', `/api/3/tags?search=${encodeURIComponent(name)}`);
    const exact = (found.tags ?? []).find((t) => typeof t.tag === 'string' && t.tag.toLowerCase() === name.toLowerCase());
    if (exact) return String(exact.id);
    const created = await this.call<{ tag?: { id?: unknown } }>(session, 'POST', '/api/3/tags', {
      tag: { tag: name, tagType: 'contact', description: 'Added by Gancho from purchase status events.' },
    });
    const id = String(created.tag?.id ?? '');
    if (id === '') throw new CallFailed({ outcome: 'retry', reason: 'unexpected_status' }, session.calls.at(-1) ?? null);
    return id;
  }

  /** The event-tracking call: its answer says `success: 1`, or why not (a wrong key, tracking off) — a failure no retry fixes. */
  private async recordEvent(session: Session, event: { url: string; form: string; eventKey: string }): Promise<void> {
    const answer = await this.call<{ success?: unknown; message?: unknown }>(session, 'POST', new URL(event.url).pathname, undefined, { url: event.url, form: event.form, secret: event.eventKey });
    const { accepted, message } = activeCampaignEventAccepted(JSON.stringify(answer));
    if (!accepted) {
      const record = session.calls.at(-1) ?? null;
      if (record) record.errorText = redact(`event not recorded: ${message || 'no reason given'}`, event.eventKey);
      throw new CallFailed({ outcome: 'failed_permanently', reason: 'rejected' }, record);
    }
  }

  /** One request: a rate slot, the call, its classification; answers the parsed JSON of a 2xx. */
  private async call<T>(
    session: Session,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    /** A form to another URL of AC's (event tracking): no Api-Token, and `secret` redacted like the token. */
    other?: { url: string; form: string; secret: string },
  ): Promise<T> {
    const { account, budget } = session;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    for (let tries = 1; ; tries += 1) {
      const maxWaitMs = session.first ? budget.maxFirstWaitMs : Math.max(0, budget.startCallsBy - Date.now());
      const slot = await this.limiter.reserve(account.apiUrl, maxWaitMs);
      if (!slot.reserved) {
        if (session.first) throw new Postponed(Math.max(this.limiter.intervalMs, slot.nextInMs));
        throw new CallFailed({ outcome: 'retry', reason: 'rate_limited', retryAfterMs: Math.max(defaultRetryAfterBounds.minMs, slot.nextInMs) }, null);
      }
      const { now } = this.limiter;
      // Answered or woken late — a queue on the slot row, a busy event loop waking every timer due meanwhile at once:
      // sending then could land next to the following slots' requests, so take a new slot instead (a few times at
      // most; the last is sent anyway, never before its slot). An answer over half a slot late leaves no moment at all.
      if (slot.sendBy < slot.sendAt && tries < 5) continue;
      if (slot.sendAt > now()) await sleep(slot.sendAt - now());
      if (now() <= slot.sendBy || tries >= 5) break;
    }
    session.first = false;

    const result = await this.http.send(
      other
        ? { url: other.url, method, headers: { accept: 'application/json' }, body: other.form, contentType: 'application/x-www-form-urlencoded', maxResponseBytes: 65_536 }
        : {
            url: `${account.apiUrl}${path}`,
            method,
            headers: { 'Api-Token': account.apiToken, accept: 'application/json' },
            body: body === undefined ? '' : JSON.stringify(body),
            maxResponseBytes: this.options.maxResponseBytes ?? 1_048_576,
          },
    );
    const now = new Date();
    const decision = classifyActiveCampaignResult(result, { now });
    const record: ActiveCampaignCall = {
      method,
      path: path.split('?')[0] ?? path,
      status: result.kind === 'response' ? result.status : null,
      errorClass: result.kind === 'error' ? result.errorClass : null,
      errorText: null,
      elapsedMs: result.elapsedMs,
    };
    session.calls.push(record);
    if (decision.outcome !== 'succeeded') {
      const text = result.kind === 'response' ? activeCampaignErrorText(result.bodySnippet) : result.message;
      // The tracking host answers a wrong actid or key with an empty 400.
      const said = other ? `event not recorded: ${text === '' || text === '{}' ? 'check the event-tracking id and key, and that tracking is on' : text}` : text;
      record.errorText = redact(redact(said, account.apiToken), other?.secret ?? '');
      if (decision.outcome === 'retry' && decision.reason === 'rate_limited') await this.limiter.pause(account.apiUrl, decision.retryAfterMs ?? defaultRetryAfterBounds.minMs);
      if (result.kind === 'response' && result.status === 404) this.forget(account.apiUrl);
      throw new CallFailed(decision, record);
    }
    if (result.kind !== 'response') throw new CallFailed({ outcome: 'retry', reason: 'other' }, record);
    try {
      return (result.bodySnippet === '' ? {} : JSON.parse(result.bodySnippet)) as T;
    } catch {
      record.errorText = 'the answer is not JSON';
      throw new CallFailed({ outcome: 'retry', reason: 'unexpected_status' }, record);
    }
  }
}

interface Session {
  account: ActiveCampaignAccount;
  calls: ActiveCampaignCall[];
  budget: ApplyBudget;
  /** No call made yet: a slot too far away gives the message back instead of failing it. */
  first: boolean;
}

/** Whatever an answer says, the token never reaches the log. */
function redact(text: string, token: string): string {
  return token === '' ? text : text.split(token).join('[api token]');
}
