import { connect } from 'node:net';
import { createServiceApp } from '@gancho/service-kit';
import { createTestDatabase, eventually, startTestService, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { journeyClient, platformToken, startJourney } from '../../../apps/journey/src/testing/journey-test-app';
import { adminToken, startSubscriptions, subscriptionsClient } from '../../../apps/subscriptions/src/testing/subscriptions-test-app';
import { DeliveryModule } from '../../../apps/delivery/src/delivery.module';
import { deliveryOpenApi } from '../../../apps/delivery/src/openapi';
import { deliveryEnv, SubscriptionsStandIn, testTopics } from '../../../apps/delivery/src/testing/delivery-test-kit';

// Scenarios, journey, subscriptions and delivery in-process on the real PostgreSQL and broker:
// - the fields the audit named, in otherwise valid bodies (course.name, student.name, a command's reason, an endpoint's
//   description on create and update, a partner's name), with a lone surrogate or U+0000: 400 naming the field, nothing stored;
// - the class: every string field of every request body in the three OpenAPI documents (so a new field is walked too),
//   with each kind of text PostgreSQL cannot store: 400 VALIDATION_FAILED naming that field;
// - the same for query parameters and path segments (U+0000, bytes that are not UTF-8 once percent-decoded);
// - one rule for bodies on every service and method: a BOM, bytes that are not UTF-8, charset=utf-16 and
//   application/merge-patch+json are refused; a 100 KB header gets a problem+json 431 and a clean close.

/** A lone high surrogate, a lone low one, U+0000: JSON that parses, text that jsonb refuses. */
const hostileTexts: [string, string][] = [
  ['lone high surrogate', 'a\ud800b'],
  ['lone low surrogate', '\udc00'],
  ['U+0000', 'a\u0000b'],
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonSchema = Record<string, any>;
type Segment = { key: string; index: boolean };

/** Every string-valued place of a request schema, by the path the errors name ("course.name", "event_types.0", "headers.x-probe"). */
function stringPlaces(schema: JsonSchema, at: Segment[] = [], seen = new Map<string, Segment[]>()): Segment[][] {
  const types = ([] as unknown[]).concat(schema['type'] ?? []);
  if (types.includes('string') || typeof schema['const'] === 'string' || (Array.isArray(schema['enum']) && typeof schema['enum'][0] === 'string')) {
    seen.set(at.map((s) => s.key).join('.'), at);
  }
  for (const [key, property] of Object.entries<JsonSchema>(schema['properties'] ?? {})) stringPlaces(property, [...at, { key, index: false }], seen);
  if (schema['items'] && typeof schema['items'] === 'object') stringPlaces(schema['items'], [...at, { key: '0', index: true }], seen);
  if (schema['additionalProperties'] && typeof schema['additionalProperties'] === 'object') {
    stringPlaces(schema['additionalProperties'], [...at, { key: 'x-probe', index: false }], seen);
  }
  for (const branch of [...(schema['anyOf'] ?? []), ...(schema['oneOf'] ?? []), ...(schema['allOf'] ?? [])]) stringPlaces(branch, at, seen);
  return [...seen.values()];
}

/** A body holding `value` at `place` and nothing else: the rule must name the field before any other check runs. */
function bodyWith(place: Segment[], value: string): unknown {
  return place.reduceRight<unknown>((inner, segment) => (segment.index ? [inner] : { [segment.key]: inner }), value);
}

type Service = 'journey' | 'subscriptions' | 'delivery';

interface Probe {
  service: Service;
  method: string;
  path: string;
  field: string;
  body: (value: string) => unknown;
}

async function probesOf(service: Service, baseUrl: string): Promise<Probe[]> {
  const document = (await (await fetch(`${baseUrl}/docs-json`)).json()) as { paths: Record<string, JsonSchema> };
  const probes: Probe[] = [];
  for (const [template, operations] of Object.entries<JsonSchema>(document.paths)) {
    for (const [method, operation] of Object.entries<JsonSchema>(operations)) {
      const schema = operation['requestBody']?.content?.['application/json']?.schema;
      if (!schema) continue;
      const path = template.replace(/\{[^}]+\}/g, 'x0');
      for (const place of stringPlaces(schema)) {
        probes.push({ service, method: method.toUpperCase(), path, field: place.map((s) => s.key).join('.'), body: (value) => bodyWith(place, value) });
      }
    }
  }
  return probes;
}

/** One raw HTTP/1.1 exchange: what the server answered, and whether the connection ended cleanly or was reset. */
function rawExchange(baseUrl: string, request: string): Promise<{ response: string; ending: string }> {
  return new Promise((resolve) => {
    const url = new URL(baseUrl);
    const socket = connect(Number(url.port), url.hostname);
    let response = '';
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ response, ending: error.code ?? error.message }));
    socket.on('end', () => resolve({ response, ending: 'end' }));
    socket.write(request);
  });
}

describe('hostile text and bodies at the edge of every service', () => {
  const deliveryTopics = testTopics();
  const deliveryStandIn = new SubscriptionsStandIn(deliveryTopics);
  let database: TestDatabase;
  let journey: TestService;
  let subscriptions: TestService;
  let delivery: TestService;
  let partnerKey: string;
  let deliveryKey: string;
  const bearerFor: Record<Service, (path: string) => string> = {
    journey: () => platformToken,
    subscriptions: (path) => (path.startsWith('/admin') ? adminToken : partnerKey),
    delivery: () => deliveryKey,
  };
  const urlOf = (service: Service) => ({ journey, subscriptions, delivery })[service].url;

  const send = (service: Service, method: string, path: string, body: string | Buffer, contentType = 'application/json') =>
    fetch(`${urlOf(service)}${path}`, { method, headers: { authorization: `Bearer ${bearerFor[service](path)}`, 'content-type': contentType }, body });

  beforeAll(async () => {
    database = await createTestDatabase('hostile_text');
    journey = await startJourney(database.url);
    subscriptions = await startSubscriptions(database.url);
    await deliveryStandIn.createTopics();
    delivery = await startTestService(
      () => createServiceApp(DeliveryModule.register(), { logger: ['error'], openApi: deliveryOpenApi }),
      deliveryEnv(database.url, deliveryTopics, [], { PARTNER_API_RATE_LIMIT_PER_SECOND: '10000', PARTNER_API_RATE_LIMIT_BURST: '10000' }),
    );
    partnerKey = (await subscriptionsClient(subscriptions.url).newPartner('Escola Azul')).key;
    deliveryKey = await deliveryStandIn.issueApiKey(uniqueName('ptn'));
    await eventually(async () => expect((await subscriptionsClient(subscriptions.url).as(partnerKey)('GET', '/endpoints')).status).toBe(200));
    await eventually(async () => expect((await fetch(`${delivery.url}/messages`, { headers: { authorization: `Bearer ${deliveryKey}` } })).status).toBe(200));
  });
  afterAll(async () => {
    await delivery?.close();
    await deliveryStandIn.close();
    await subscriptions?.close();
    await journey?.close();
    await database?.drop();
  });

  describe.each(hostileTexts)('%s', (_kind, hostile) => {
    it('is refused in the fields the audit named, in otherwise valid bodies, and nothing is stored', async () => {
      const api = journeyClient(journey.url);
      const before = (await api.request('GET', '/purchases?limit=200')).body.items.length;
      for (const overrides of [{ course: { id: 'crs_1', name: hostile, price_cents: 100, currency: 'BRL' } }, { student: { name: hostile, email: 'ana@example.com' } }]) {
        const field = 'course' in overrides ? 'course.name' : 'student.name';
        expect(await api.open(overrides)).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED', errors: [{ path: field }] } });
      }
      expect((await api.request('GET', '/purchases?limit=200')).body.items).toHaveLength(before);
      const purchase = (await api.open()).body;
      const reason = await api.request('POST', `/purchases/${purchase.purchase_id}/abandon-before-signature`, { reason: hostile });
      expect(reason).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED', errors: [{ path: 'reason' }] } });
      expect((await api.request('GET', `/purchases/${purchase.purchase_id}`)).body).toMatchObject({ status: purchase.status, version: purchase.version });

      const subs = subscriptionsClient(subscriptions.url);
      expect(await subs.admin('POST', '/admin/partners', { name: hostile })).toMatchObject({ status: 400, body: { errors: [{ path: 'name' }] } });
      const partner = subs.as(partnerKey);
      const endpoint = { url: 'http://127.0.0.1:9/hooks', event_types: ['purchase.*'] };
      expect(await partner('POST', '/endpoints', { ...endpoint, description: hostile })).toMatchObject({ status: 400, body: { errors: [{ path: 'description' }] } });
      const created = await partner('POST', '/endpoints', { ...endpoint, description: 'fine' });
      expect(created.status).toBe(201);
      expect(await partner('PATCH', `/endpoints/${created.body.id}`, { description: hostile })).toMatchObject({ status: 400, body: { errors: [{ path: 'description' }] } });
      expect((await partner('GET', `/endpoints/${created.body.id}`)).body.description).toBe('fine');
    });

    it('is refused in every string field of every request body of the three services, naming the field', async () => {
      const probes = [...(await probesOf('journey', journey.url)), ...(await probesOf('subscriptions', subscriptions.url)), ...(await probesOf('delivery', delivery.url))];
      // The walk finds the fields it must: a table that came out empty would prove nothing.
      const fields = new Set(probes.map((p) => `${p.service} ${p.field}`));
      for (const expected of [
        'journey course.name',
        'journey student.name',
        'journey reason',
        'subscriptions name',
        'subscriptions description',
        'subscriptions headers.x-probe',
        'subscriptions destination.mapping.tag_prefix',
        'delivery since',
      ]) {
        expect(fields).toContain(expected);
      }
      const wrong: string[] = [];
      for (const probe of probes) {
        const response = await send(probe.service, probe.method, probe.path, JSON.stringify(probe.body(hostile)));
        const body = (await response.json()) as { code?: string; errors?: { path: string }[] };
        const named = response.status === 400 && body.code === 'VALIDATION_FAILED' && body.errors?.length === 1 && body.errors[0]?.path === probe.field;
        if (!named) wrong.push(`${probe.service} ${probe.method} ${probe.path} ${probe.field}: ${response.status} ${JSON.stringify(body.errors ?? body.code)}`);
      }
      expect(wrong).toEqual([]);
      expect(probes.length).toBeGreaterThan(60);
    });
  });

  const getRoutes: [Service, string, string][] = [
    ['journey', '/purchases?partner_id=%00', 'partner_id'],
    ['journey', '/purchases/%00', '(path)'],
    ['subscriptions', '/endpoints?cursor=%FF', 'cursor'],
    ['subscriptions', '/endpoints/ep_%00', '(path)'],
    ['delivery', '/messages?endpoint_id=%00', 'endpoint_id'],
    ['delivery', '/messages?event_type=%ED%A0%80', 'event_type'],
    ['delivery', '/messages/msg_%00', '(path)'],
    ['delivery', '/messages/msg_%FF', '(path)'],
  ];

  it.each(getRoutes)('%s GET %s: 400 naming %s', async (service, path, field) => {
    const response = await fetch(`${urlOf(service)}${path}`, { headers: { authorization: `Bearer ${bearerFor[service](path)}` } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: field }] });
  });

  const bodyRoutes: [Service, string, string, string][] = [
    ['journey', 'POST', '/purchases', '{"partner_id":"ptn_1"}'],
    ['subscriptions', 'POST', '/admin/partners', '{"name":"Escola"}'],
    ['subscriptions', 'PATCH', '/endpoints/ep_00000000000000000000000000000000', '{"description":"x"}'],
    ['delivery', 'POST', '/endpoints/ep_00000000000000000000000000000000/recover', '{"since":"2026-01-01T00:00:00Z"}'],
  ];

  it.each(bodyRoutes)('%s %s %s takes UTF-8 JSON only: no BOM, no bad bytes, no other charset or media type', async (service, method, path, json) => {
    const expectProblem = async (response: Response, status: number, code: string) => {
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({ status, code });
    };
    await expectProblem(await send(service, method, path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)])), 400, 'MALFORMED_JSON');
    await expectProblem(await send(service, method, path, Buffer.concat([Buffer.from(json.slice(0, -2)), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])), 400, 'MALFORMED_JSON');
    await expectProblem(await send(service, method, path, Buffer.from(json, 'utf16le'), 'application/json; charset=utf-16'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectProblem(await send(service, method, path, json, 'application/merge-patch+json'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it.each<Service>(['journey', 'subscriptions', 'delivery'])('%s answers a 100 KB header with a problem+json 431 and closes cleanly', async (service) => {
    const { response, ending } = await rawExchange(urlOf(service), `GET /health/live HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(100_000)}\r\n\r\n`);
    expect(ending).toBe('end');
    expect(response).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(JSON.parse(response.split('\r\n\r\n')[1] as string)).toMatchObject({ status: 431, code: 'REQUEST_HEADERS_TOO_LARGE' });
  });
});
