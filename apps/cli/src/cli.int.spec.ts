import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { run } from './cli';

// Scenarios, in-process against a stand-in of the partner APIs over real HTTP:
// - login checks the key against the API, saves key and URLs to the config file (mode 600), and later commands use it;
//   a refused key is not saved and exits 1; the key can come from stdin;
// - endpoints list prints a table for a person and JSON for a script (following the cursor);
// - endpoints create sends an Idempotency-Key and shows the new signing secret;
// - colours only at a terminal (never with --json or NO_COLOR); usage errors exit non-zero.

const goodKey = 'gk_live_abcdef_0123456789abcdefghij';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('gancho (in-process, stand-in APIs)', () => {
  let server: Server;
  let base: string;
  let dir: string;
  const seen: Seen[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (c: Buffer) => (body += c.toString()));
      request.on('end', () => {
        seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
        const json = (status: number, value: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        if (request.headers.authorization !== `Bearer ${goodKey}`) return json(401, { code: 'UNAUTHORIZED', detail: 'The API key is not valid: unknown or revoked.' });
        const url = new URL(request.url ?? '/', 'http://x');
        if (url.pathname === '/messages') return json(200, { items: [], next_cursor: null });
        if (url.pathname === '/endpoints' && request.method === 'GET') {
          const second = url.searchParams.get('cursor') === 'page2';
          return json(200, {
            items: second
              ? [{ id: 'ep_2', url: 'https://b.example.com/hooks', enabled: false, disabled_reason: 'gone', event_types: ['purchase.paid'] }]
              : [{ id: 'ep_1', url: 'https://a.example.com/hooks', enabled: true, disabled_reason: null, event_types: ['purchase.*'] }],
            next_cursor: second ? null : 'page2',
          });
        }
        if (url.pathname === '/endpoints' && request.method === 'POST') return json(201, { id: 'ep_new', ...JSON.parse(body), enabled: true });
        if (url.pathname === '/endpoints/ep_new/secret') return json(200, { current: { secret: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0' }, previous: null });
        return json(404, { code: 'ROUTE_NOT_FOUND', detail: 'no' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(tmpdir(), 'gancho-cli-'));
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => (seen.length = 0));

  function io(env: Record<string, string> = {}, { tty = false, stdin = '' } = {}) {
    const out: string[] = [];
    const err: string[] = [];
    return {
      io: {
        stdout: { write: (s: string) => out.push(s), isTTY: tty },
        stderr: { write: (s: string) => err.push(s), isTTY: tty },
        stdin: Readable.from([stdin]),
        env: { GANCHO_CONFIG: path.join(dir, 'config.json'), ...env },
      },
      out: () => out.join(''),
      err: () => err.join(''),
    };
  }

  it('login verifies the key, saves it with mode 600, and later commands use it; a refused key is not saved', async () => {
    const refused = io({ GANCHO_CONFIG: path.join(dir, 'refused.json') });
    expect(await run(['--api-key', 'gk_live_wrong_key', '--delivery-url', base, 'login'], refused.io)).toBe(1);
    expect(refused.err()).toContain('UNAUTHORIZED');
    await expect(stat(path.join(dir, 'refused.json'))).rejects.toThrow();

    const session = io({}, { stdin: `${goodKey}\n` });
    expect(await run(['--delivery-url', base, '--subscriptions-url', base, 'login'], session.io)).toBe(0);
    expect(session.out()).toContain('Logged in');
    expect(session.out()).not.toContain(goodKey);
    const file = path.join(dir, 'config.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ api_key: goodKey, delivery_url: `${base}/`, subscriptions_url: `${base}/` });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/messages?limit=1' });

    seen.length = 0;
    const list = io();
    expect(await run(['--json', 'endpoints', 'list'], list.io)).toBe(0);
    expect(seen.map((s) => [s.url, s.headers.authorization])).toEqual([
      ['/endpoints?limit=100', `Bearer ${goodKey}`],
      ['/endpoints?limit=100&cursor=page2', `Bearer ${goodKey}`],
    ]);
  });

  it('endpoints list: a table for a person, JSON for a script, every page', async () => {
    const human = io({ GANCHO_API_KEY: goodKey, GANCHO_SUBSCRIPTIONS_URL: base });
    expect(await run(['endpoints', 'list'], human.io)).toBe(0);
    const lines = human.out().trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+EVENTS\s+URL$/);
    expect(lines[1]).toMatch(/^ep_1\s+enabled\s+purchase\.\*\s+https:\/\/a\.example\.com\/hooks$/);
    expect(lines[2]).toMatch(/^ep_2\s+disabled \(gone\)\s+purchase\.paid/);
    expect(human.out()).not.toContain('\u001b[');

    const script = io({ GANCHO_API_KEY: goodKey, GANCHO_SUBSCRIPTIONS_URL: base });
    expect(await run(['--json', 'endpoints', 'list'], script.io)).toBe(0);
    expect(JSON.parse(script.out()).items.map((e: { id: string }) => e.id)).toEqual(['ep_1', 'ep_2']);
  });

  it('endpoints create sends an Idempotency-Key and shows the signing secret', async () => {
    const session = io({ GANCHO_API_KEY: goodKey, GANCHO_SUBSCRIPTIONS_URL: base });
    expect(await run(['--json', 'endpoints', 'create', '--url', 'https://hooks.example.com/g', '--events', 'purchase.made_effective,purchase.paid'], session.io)).toBe(0);
    const post = seen.find((s) => s.method === 'POST')!;
    expect(post.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(post.body)).toEqual({ url: 'https://hooks.example.com/g', description: '', event_types: ['purchase.made_effective', 'purchase.paid'] });
    expect(JSON.parse(session.out())).toMatchObject({ id: 'ep_new', signing_secret: expect.stringMatching(/^whsec_/) });
  });

  it('colours only at a terminal, never with NO_COLOR; usage errors exit non-zero', async () => {
    const tty = io({ GANCHO_API_KEY: goodKey, GANCHO_SUBSCRIPTIONS_URL: base }, { tty: true });
    expect(await run(['endpoints', 'create', '--url', 'https://hooks.example.com/g'], tty.io)).toBe(0);
    expect(tty.out()).toContain('\u001b[32mCreated');
    const noColour = io({ GANCHO_API_KEY: goodKey, GANCHO_SUBSCRIPTIONS_URL: base, NO_COLOR: '1' }, { tty: true });
    expect(await run(['endpoints', 'create', '--url', 'https://hooks.example.com/g'], noColour.io)).toBe(0);
    expect(noColour.out()).not.toContain('\u001b[');

    const usage = io();
    expect(await run(['listen'], usage.io)).not.toBe(0);
    expect(usage.err()).toContain("required option '--forward-to <url>' not specified");
    const noKey = io({ GANCHO_CONFIG: path.join(dir, 'none.json') });
    expect(await run(['endpoints', 'list'], noKey.io)).toBe(1);
    expect(noKey.err()).toContain('gancho login');
  });
});
