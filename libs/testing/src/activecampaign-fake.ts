import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for one ActiveCampaign account's v3 API, for tests: a
 * real HTTP server on loopback serving the endpoints Gancho's destination
 * uses, with the status codes and bodies of AC's public API reference:
 *
 * - Authentication: every request carries the `Api-Token` header
 *   (https://developers.activecampaign.com/reference/authentication). A
 *   missing token answers 401, an unknown one 403 (the reference documents
 *   the header, not the bodies: these are `{message}`).
 * - Rate limit: "5 requests per second per account"; over it, 429 with
 *   `Retry-After` in seconds and `RateLimit-Limit`/`RateLimit-Remaining`
 *   (https://developers.activecampaign.com/reference/rate-limits). Here: at
 *   most 5 accepted requests in any sliding second, shared by every token of
 *   the account (one fake = one account).
 * - POST /api/3/contact/sync upserts by e-mail: 201 when created, 200 when
 *   updated, `{contact, fieldValues}`
 *   (https://developers.activecampaign.com/reference/sync-a-contacts-data);
 *   an invalid e-mail answers 422 with the v3 error list
 *   `{errors: [{title, detail, code, source: {pointer}}]}`.
 * - GET /api/3/fields (`limit` default 100, `offset`) → `{fields, meta: {total}}`;
 *   POST /api/3/fields `{field: {title, type, perstag, descript}}` → 201 `{field}`;
 *   POST /api/3/fieldRels `{fieldRel: {field, relid}}` → 201 (AC: a field is
 *   shown on contacts of the lists it is related to; relid 0 = all lists).
 * - GET /api/3/tags?search= (substring, case-insensitive) → `{tags, meta: {total}}`;
 *   POST /api/3/tags `{tag: {tag, tagType, description}}` → 201 `{tag}`; a comma in the name → 422.
 * - POST /api/3/contactTags `{contactTag: {contact, tag}}` → 201 `{contactTag}`;
 *   an unknown contact → 404 `{errors: [{title: "Not Found", detail: "Contact not found"}]}`;
 *   a missing attribute → 422 `{errors: [{title: "Missing attribute", source: {pointer}}]}`.
 * - DELETE /api/3/contacts/{id} → 200 `{}` and the contact (with its tags) is
 *   gone; an unknown id → 404 `{message: "No Result found for Subscriber with id …"}`
 *   (https://developers.activecampaign.com/reference/delete-contact).
 *
 * - POST /event (event tracking, on AC's host trackcmp.net; served here on
 *   loopback): a form with `actid`, `key`, `event`, `eventdata`, `visit`
 *   (`{"email": …}`); 200 `{success: 1, message: "Event spawned"}`, or 400 `{}`
 *   for a wrong key or missing field (AC's "Contact Event Tracking API Guide",
 *   https://developers.activecampaign.com/reference/contact-event-tracking-api-guide).
 *   No Api-Token; not counted in the API's rate limit.
 *
 * Every request is recorded with its time and answer, so tests can check the
 * rate Gancho kept. Failures can be injected (`failNext`).
 */

export interface ActiveCampaignFakeRequest {
  method: string;
  path: string;
  /** ms since the epoch, when the request had arrived whole and was counted. */
  at: number;
  status: number;
  token: string | undefined;
  body: unknown;
}

export interface FakeContact {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  phone: string;
  /** Custom field values by perstag. */
  fields: Record<string, string>;
  /** Tag names. */
  tags: string[];
}

interface FakeField {
  id: string;
  title: string;
  type: string;
  perstag: string;
  descript: string;
  relations: string[];
}

interface FakeTag {
  id: string;
  tag: string;
  tagType: string;
  description: string;
}

export interface FakeEvent {
  email: string;
  event: string;
  eventdata: string;
  at: number;
}

export interface InjectedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;
const cdate = () => new Date().toISOString();

export class ActiveCampaignFake {
  /** Tokens this account accepts. */
  readonly tokens = new Set<string>();
  readonly requests: ActiveCampaignFakeRequest[] = [];
  readonly limitPerSecond: number;
  /** Events recorded through event tracking. */
  readonly events: FakeEvent[] = [];
  private readonly eventTracking: { actid: string; key: string } | undefined;
  private readonly contactsByEmail = new Map<string, FakeContact>();
  private readonly fields: FakeField[] = [];
  private readonly tags: FakeTag[] = [];
  private readonly contactTags: { id: string; contact: string; tag: string }[] = [];
  /** The ids of the contacts deleted (DELETE /api/3/contacts/{id}), in order. */
  readonly deletedContacts: string[] = [];
  private readonly injected: { matches: (method: string, path: string) => boolean; answer: InjectedAnswer }[] = [];
  private readonly accepted: number[] = [];
  private nextId = 1;
  private bodiesArriving = 0;
  private server: Server | undefined;

  /** The fake's clock (ms since the epoch): when a request arrived, for the rate limit and the record. */
  private readonly now: () => number;

  constructor(options: { tokens?: string[]; limitPerSecond?: number; eventTracking?: { actid: string; key: string }; now?: () => number } = {}) {
    for (const token of options.tokens ?? []) this.tokens.add(token);
    this.limitPerSecond = options.limitPerSecond ?? 5;
    this.eventTracking = options.eventTracking;
    this.now = options.now ?? Date.now;
  }

  /** The event-tracking URL, standing in for https://trackcmp.net/event. */
  get eventsUrl(): string {
    return `http://${this.host}/event`;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.keepAliveTimeout = 2000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** `127.0.0.1:<port>`, for delivery's ALLOWED_ENDPOINT_HOSTS. */
  get host(): string {
    return `127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  /** The account's API URL, as ActiveCampaign shows it under Settings → Developer. */
  get apiUrl(): string {
    return `http://${this.host}`;
  }

  /** The next `count` requests matching method and path prefix (after authentication) get this answer instead. */
  failNext(count: number, answer: InjectedAnswer, method?: string, pathPrefix = '/'): void {
    for (let i = 0; i < count; i += 1) this.injected.push({ matches: (m, p) => (method === undefined || m === method) && p.startsWith(pathPrefix), answer });
  }

  contact(email: string): FakeContact | undefined {
    return this.contactsByEmail.get(email.toLowerCase());
  }

  get contacts(): FakeContact[] {
    return [...this.contactsByEmail.values()];
  }

  fieldByPerstag(perstag: string): FakeField | undefined {
    return this.fields.find((f) => f.perstag === perstag.toUpperCase());
  }

  get tagNames(): string[] {
    return this.tags.map((t) => t.tag);
  }

  /** The most requests that arrived within any one calendar second, and within any sliding 1000 ms window. */
  peakRequestsPerSecond(): { calendar: number; sliding: number } {
    const times = this.requests.map((r) => r.at).sort((a, b) => a - b);
    const perSecond = new Map<number, number>();
    for (const t of times) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
    let sliding = 0;
    for (let i = 0, j = 0; i < times.length; i += 1) {
      while ((times[i] ?? 0) - (times[j] ?? 0) >= 1000) j += 1;
      sliding = Math.max(sliding, i - j + 1);
    }
    return { calendar: Math.max(0, ...perSecond.values()), sliding };
  }

  private id(): string {
    return String(this.nextId++);
  }

  /** Requests whose body is still arriving (not yet counted or answered). */
  get receiving(): number {
    return this.bodiesArriving;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    this.bodiesArriving += 1;
    try {
      for await (const chunk of request) chunks.push(chunk as Buffer);
    } finally {
      this.bodiesArriving -= 1;
    }
    // Stamped when the request is counted, not when its headers came: bodies finish out of order, and a request
    // stamped earlier but counted after a later one would find the window already moved past requests it should see.
    const at = this.now();
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = undefined;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    const tokenHeader = request.headers['api-token'];
    const token = Array.isArray(tokenHeader) ? tokenHeader[0] : tokenHeader;
    const answer = method === 'POST' && url.pathname === '/event' ? this.trackEvent(new URLSearchParams(text), at) : this.answer(method, url, token, body, at);
    this.requests.push({ method, path: `${url.pathname}${url.search}`, at, status: answer.status, token, body });
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }

  private trackEvent(form: URLSearchParams, at: number): InjectedAnswer {
    const injected = this.injected.findIndex((i) => i.matches('POST', '/event'));
    if (injected >= 0) return this.injected.splice(injected, 1)[0]?.answer ?? { status: 500 };
    const tracking = this.eventTracking;
    let email: unknown;
    try {
      email = (JSON.parse(form.get('visit') ?? '{}') as { email?: unknown }).email;
    } catch {
      email = undefined;
    }
    const event = form.get('event') ?? '';
    if (!tracking || form.get('actid') !== tracking.actid || form.get('key') !== tracking.key || event === '' || event.length > 32 || typeof email !== 'string') {
      return { status: 400, body: {} };
    }
    this.events.push({ email, event, eventdata: form.get('eventdata') ?? '', at });
    return { status: 200, body: { success: 1, message: 'Event spawned' } };
  }

  private answer(method: string, url: URL, token: string | undefined, body: unknown, at: number): InjectedAnswer {
    if (token === undefined || token === '') return { status: 401, body: { message: 'No API token was given (Api-Token header).' } };
    if (!this.tokens.has(token)) return { status: 403, body: { message: 'The API token is not valid for this account.' } };
    while (this.accepted.length > 0 && at - (this.accepted[0] ?? 0) >= 1000) this.accepted.shift();
    if (this.accepted.length >= this.limitPerSecond) {
      const retryAfter = Math.max(1, Math.ceil(((this.accepted[0] ?? at) + 1000 - at) / 1000));
      return {
        status: 429,
        headers: { 'retry-after': String(retryAfter), 'ratelimit-limit': String(this.limitPerSecond), 'ratelimit-remaining': '0' },
        body: { message: 'Too Many Requests' },
      };
    }
    this.accepted.push(at);
    const remaining = { 'ratelimit-limit': String(this.limitPerSecond), 'ratelimit-remaining': String(this.limitPerSecond - this.accepted.length) };
    const injected = this.injected.findIndex((i) => i.matches(method, url.pathname));
    if (injected >= 0) {
      const [taken] = this.injected.splice(injected, 1);
      return taken?.answer ?? { status: 500 };
    }
    const routed = this.route(method, url, body);
    return { ...routed, headers: { ...remaining, ...routed.headers } };
  }

  private route(method: string, url: URL, body: unknown): InjectedAnswer {
    const route = `${method} ${url.pathname}`;
    const deletion = /^DELETE \/api\/3\/contacts\/([^/]+)$/.exec(route);
    if (deletion) return this.deleteContact(decodeURIComponent(deletion[1] as string));
    const input = (body ?? {}) as Record<string, Record<string, unknown> | undefined>;
    switch (route) {
      case 'POST /api/3/contact/sync':
        return this.syncContact(input['contact'] ?? {});
      case 'GET /api/3/fields': {
        const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 100) || 100);
        const offset = Number(url.searchParams.get('offset') ?? 0) || 0;
        return { status: 200, body: { fieldOptions: [], fieldRels: [], fields: this.fields.slice(offset, offset + limit).map(fieldBody), meta: { total: String(this.fields.length) } } };
      }
      case 'POST /api/3/fields': {
        const field = input['field'] ?? {};
        const missing = ['title', 'type'].filter((k) => typeof field[k] !== 'string' || field[k] === '');
        if (missing.length > 0) return missingAttribute(missing.map((k) => `/data/attributes/${k}`));
        const perstag = String(field['perstag'] ?? field['title'])
          .toUpperCase()
          .replace(/[^A-Z0-9_]/g, '_');
        const created: FakeField = { id: this.id(), title: String(field['title']), type: String(field['type']), perstag, descript: String(field['descript'] ?? ''), relations: [] };
        this.fields.push(created);
        return { status: 201, body: { field: fieldBody(created) } };
      }
      case 'POST /api/3/fieldRels': {
        const rel = input['fieldRel'] ?? {};
        const field = this.fields.find((f) => f.id === String(rel['field']));
        if (!field) return notFound('Field not found');
        field.relations.push(String(rel['relid'] ?? '0'));
        return { status: 201, body: { fieldRel: { field: field.id, relid: String(rel['relid'] ?? '0'), id: this.id(), cdate: cdate() } } };
      }
      case 'GET /api/3/tags': {
        const search = (url.searchParams.get('search') ?? '').toLowerCase();
        const found = this.tags.filter((t) => t.tag.toLowerCase().includes(search));
        return { status: 200, body: { tags: found.map(tagBody), meta: { total: String(found.length) } } };
      }
      case 'POST /api/3/tags': {
        const tag = input['tag'] ?? {};
        if (typeof tag['tag'] !== 'string' || tag['tag'] === '') return missingAttribute(['/data/attributes/tag']);
        if (tag['tag'].includes(',')) return { status: 422, body: { errors: [{ title: 'Tag names cannot contain commas', source: { pointer: '/data/attributes/tag' } }] } };
        const created: FakeTag = { id: this.id(), tag: tag['tag'], tagType: String(tag['tagType'] ?? 'contact'), description: String(tag['description'] ?? '') };
        this.tags.push(created);
        return { status: 201, body: { tag: tagBody(created) } };
      }
      case 'POST /api/3/contactTags': {
        const link = input['contactTag'] ?? {};
        const missing = ['contact', 'tag'].filter((k) => link[k] === undefined || link[k] === '');
        if (missing.length > 0) return missingAttribute(missing.map((k) => `/data/attributes/${k}`));
        const contact = this.contacts.find((c) => c.id === String(link['contact']));
        if (!contact) return notFound('Contact not found');
        const tag = this.tags.find((t) => t.id === String(link['tag']));
        if (!tag) return notFound('Tag not found');
        const existing = this.contactTags.find((ct) => ct.contact === contact.id && ct.tag === tag.id);
        if (existing) return { status: 200, body: { contactTag: { ...existing, cdate: cdate() } } };
        const created = { id: this.id(), contact: contact.id, tag: tag.id };
        this.contactTags.push(created);
        contact.tags.push(tag.tag);
        return { status: 201, body: { contactTag: { ...created, cdate: cdate() } } };
      }
      default:
        return notFound('No such route');
    }
  }

  private deleteContact(id: string): InjectedAnswer {
    const contact = this.contacts.find((c) => c.id === id);
    if (!contact) return { status: 404, body: { message: `No Result found for Subscriber with id ${id}` } };
    this.contactsByEmail.delete(contact.email.toLowerCase());
    for (let i = this.contactTags.length - 1; i >= 0; i -= 1) if (this.contactTags[i]?.contact === id) this.contactTags.splice(i, 1);
    this.deletedContacts.push(id);
    return { status: 200, body: {} };
  }

  private syncContact(input: Record<string, unknown>): InjectedAnswer {
    const email = input['email'];
    if (typeof email !== 'string' || email === '') return missingAttribute(['/data/attributes/email']);
    // ActiveCampaign validates addresses; the reserved .invalid TLD (RFC 2606) stands for one it refuses.
    if (!emailPattern.test(email) || email.toLowerCase().endsWith('.invalid')) {
      return { status: 422, body: { errors: [{ title: 'Email address is invalid', detail: email, code: 'email_invalid', source: { pointer: '/data/attributes/email' } }] } };
    }
    const key = email.toLowerCase();
    let contact = this.contactsByEmail.get(key);
    const created = contact === undefined;
    if (!contact) {
      contact = { id: this.id(), email, firstName: '', lastName: '', phone: '', fields: {}, tags: [] };
      this.contactsByEmail.set(key, contact);
    }
    for (const name of ['firstName', 'lastName', 'phone'] as const) if (typeof input[name] === 'string') contact[name] = input[name] as string;
    const values = Array.isArray(input['fieldValues']) ? (input['fieldValues'] as { field?: unknown; value?: unknown }[]) : [];
    const fieldValues = [];
    for (const value of values) {
      const field = this.fields.find((f) => f.id === String(value.field));
      if (!field) continue;
      contact.fields[field.perstag] = String(value.value ?? '');
      fieldValues.push({ contact: contact.id, field: field.id, value: String(value.value ?? ''), id: this.id(), owner: contact.id });
    }
    return {
      status: created ? 201 : 200,
      body: { fieldValues, contact: { id: contact.id, email: contact.email, firstName: contact.firstName, lastName: contact.lastName, phone: contact.phone, cdate: cdate(), udate: cdate() } },
    };
  }
}

function fieldBody(field: FakeField) {
  return { id: field.id, title: field.title, type: field.type, perstag: field.perstag, descript: field.descript, relations: field.relations };
}

function tagBody(tag: FakeTag) {
  return { id: tag.id, tag: tag.tag, tagType: tag.tagType, description: tag.description, cdate: cdate() };
}

function notFound(detail: string): InjectedAnswer {
  return { status: 404, body: { errors: [{ status: 404, title: 'Not Found', detail }] } };
}

function missingAttribute(pointers: string[]): InjectedAnswer {
  return { status: 422, body: { errors: pointers.map((pointer) => ({ status: 422, title: 'Missing attribute', source: { pointer } })) } };
}
