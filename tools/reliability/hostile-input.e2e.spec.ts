import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@gancho/testing';
import { startPlatformOnDatabase, type PlatformUnderTest } from './platform-under-test.mts';

// Hostile input on the two main POST routes, journey's POST /purchases and
// subscriptions' POST /endpoints, with valid credentials: JSON nested 10,000
// levels deep, and injection-looking strings (SQL, script, template, JNDI,
// path traversal, NUL, CRLF, huge unicode) in every field in turn. No answer
// is a 5xx; every refusal is problem+json with a stable code of the table;
// nothing is stored on refusal; what is accepted is stored verbatim, as data.
const injections = [
  "' OR '1'='1' --",
  '"; DROP TABLE journey.events; --',
  "Robert'); DROP TABLE subscriptions.endpoints;--",
  '<script>alert(1)</script>',
  '{{7*7}}${7*7}<%= 7*7 %>',
  '${jndi:ldap://127.0.0.1:1/a}',
  '../../../../etc/passwd',
  'a\u0000b',
  'line\r\nX-Injected: 1',
  '%00%0d%0a',
  '{"$where": "sleep(1000)"}',
  '\u202e\ud83d\ude00\uffff',
  'x'.repeat(10_000),
];
const refusalCodes = new Set(['VALIDATION_FAILED', 'MALFORMED_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'ENDPOINT_URL_NOT_ALLOWED']);

function deeplyNested(levels: number): string {
  return `${'['.repeat(levels)}1${']'.repeat(levels)}`;
}

/** Sets `value` at `path` in a copy of `body`. */
function withField(body: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let node = copy;
  path.slice(0, -1).forEach((key) => (node = node[key] as Record<string | number, unknown>));
  node[path[path.length - 1] as string | number] = value;
  return copy;
}

describe('hostile input on the main POST routes', () => {
  let database: TestDatabase;
  let platform: PlatformUnderTest;
  let sql: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase('reliability_hostile');
    platform = await startPlatformOnDatabase(database.url);
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  }, 120_000);
  afterAll(async () => {
    await sql?.end();
    await platform?.stop();
    await database?.drop();
  });

  const send = async (url: string, token: string, raw: string) => {
    const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: raw });
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: text };
  };
  const count = async (query: string) => Number((await sql.query<{ n: string }>(query)).rows[0]?.n);

  /** Checks one answer: never 5xx; a refusal is problem+json with a code of the table. Says whether it was accepted. */
  const judge = (what: string, answer: { status: number; type: string; body: string }): boolean => {
    expect({ what, serverError: answer.status >= 500 }).toEqual({ what, serverError: false });
    if (answer.status < 300) return true;
    const problem = JSON.parse(answer.body) as { code?: string; status?: number };
    expect({ what, type: answer.type.split(';')[0], status: problem.status, known: refusalCodes.has(problem.code ?? '') }).toEqual({
      what,
      type: 'application/problem+json',
      status: answer.status,
      known: true,
    });
    return false;
  };

  const purchase = () => ({
    partner_id: 'ptn_hostile',
    course: { id: 'crs_hostile', name: 'Segurança', price_cents: 100, currency: 'BRL' },
    student: { name: 'Eva Mallory', email: 'eva@example.com' },
  });
  const purchaseFields: (string | number)[][] = [
    ['purchase_id'],
    ['partner_id'],
    ['course', 'id'],
    ['course', 'name'],
    ['course', 'price_cents'],
    ['course', 'currency'],
    ['student', 'name'],
    ['student', 'email'],
    ['student_logged_in'],
  ];

  it('journey POST /purchases: deep nesting and injection strings in every field', async () => {
    const url = `${platform.urls.journey}/purchases`;
    const token = platform.secrets.platformToken;
    const events = 'SELECT count(*) AS n FROM journey.events';
    const before = await count(events);
    const deep = deeplyNested(10_000);
    for (const raw of [deep, `{"partner_id": ${deep}}`, `{"course": {"name": ${deep}}}`, `{"x": ${deep}}`, `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`]) {
      expect(judge(`deep ${raw.slice(0, 20)}`, await send(url, token, raw))).toBe(false);
    }
    expect(await count(events)).toBe(before);

    let accepted = 0;
    let refused = 0;
    for (const field of purchaseFields) {
      for (const value of injections) {
        const body = withField(purchase(), field, value) as ReturnType<typeof purchase>;
        const storedBefore = await count(events);
        const answer = await send(url, token, JSON.stringify(body));
        if (judge(`${field.join('.')} = ${JSON.stringify(value).slice(0, 40)}`, answer)) {
          accepted++;
          // Accepted free text is stored and answered verbatim: data, never interpreted.
          const created = JSON.parse(answer.body) as { purchase_id: string };
          const read = (await (await fetch(`${platform.urls.journey}/purchases/${created.purchase_id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, Record<string, unknown>>;
          expect(read[field[0] as string]?.[field[1] as string] ?? read[field[0] as string]).toEqual(field.length === 2 ? value.trim() : value);
        } else {
          refused++;
          expect(await count(events)).toBe(storedBefore);
        }
      }
    }
    process.stdout.write(
      `hostile input, journey POST /purchases: 5 nestings of 10,000 levels refused; ${purchaseFields.length * injections.length} injection bodies: ${accepted} accepted verbatim, ${refused} refused, 0 server errors\n`,
    );
    expect(refused).toBeGreaterThan(0);
    // The journey's tables are intact.
    expect(await count("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'journey' AND table_name = 'events'")).toBe(1);
  });

  it('subscriptions POST /endpoints: deep nesting and injection strings in every field', async () => {
    const url = `${platform.urls.subscriptions}/endpoints`;
    const token = platform.apiKey;
    const endpoints = 'SELECT count(*) AS n FROM subscriptions.events';
    const endpoint = () => ({ url: 'https://hooks.example.com/gancho', description: 'ok', event_types: ['purchase.*'], headers: { 'x-partner': 'a' }, ordering: 'none', rate_limit_per_second: 10 });
    const before = await count(endpoints);
    const deep = deeplyNested(10_000);
    for (const raw of [deep, `{"url": ${deep}}`, `{"event_types": ${deep}}`, `{"headers": {"x": ${deep}}}`, `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`]) {
      expect(judge(`deep ${raw.slice(0, 20)}`, await send(url, token, raw))).toBe(false);
    }
    expect(await count(endpoints)).toBe(before);

    const fields: (string | number)[][] = [['url'], ['description'], ['event_types', 0], ['headers', 'x-partner'], ['ordering'], ['rate_limit_per_second']];
    let accepted = 0;
    let refused = 0;
    for (const field of fields) {
      for (const value of [...injections, `https://hooks.example.com/${injections[1] as string}`]) {
        const storedBefore = await count(endpoints);
        const answer = await send(url, token, JSON.stringify(withField(endpoint(), field, value)));
        if (judge(`${field.join('.')} = ${JSON.stringify(value).slice(0, 40)}`, answer)) {
          accepted++;
          const created = JSON.parse(answer.body) as Record<string, unknown>;
          const read = (await (await fetch(`${url}/${created.id as string}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, unknown>;
          expect(read[field[0] as string]).toEqual(created[field[0] as string]);
        } else {
          refused++;
          expect(await count(endpoints)).toBe(storedBefore);
        }
      }
    }
    // A header name is a field too.
    expect(judge('header name with CRLF', await send(url, token, JSON.stringify({ ...endpoint(), headers: { 'x-a\r\nx-b': '1' } })))).toBe(false);
    process.stdout.write(
      `hostile input, subscriptions POST /endpoints: 5 nestings of 10,000 levels refused; ${fields.length * (injections.length + 1)} injection bodies: ${accepted} accepted verbatim, ${refused} refused, 0 server errors\n`,
    );
    expect(refused).toBeGreaterThan(0);
  });
});
