import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { consoleConfig, ConsoleConfigError } from './console.config';
import { startConsoleServer, type ConsoleServer } from './console-server';

// The console's server over real HTTP on loopback, with stand-in services that record what reaches them:
// - the page and its hashed assets are served (assets cached for good, the page never), client routes get the page,
//   nothing outside the build is reachable (path traversal), every answer carries the CSP and its frame-ancestors;
// - partner routes are proxied with their method, query, body and bearer; cookies stay behind; answers are no-store;
// - admin routes and unknown API paths are refused without reaching a service; a service that is down is a 502 problem;
// - configuration refuses nonsense.
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function standIn(name: string): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      response.writeHead(201, { 'content-type': 'application/json', 'set-cookie': 'tracking=1', 'x-internal': 'yes' }).end(JSON.stringify({ service: name }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe('the console server', () => {
  let subscriptions: Awaited<ReturnType<typeof standIn>>;
  let delivery: Awaited<ReturnType<typeof standIn>>;
  let site: ConsoleServer;
  const staticDir = mkdtempSync(path.join(tmpdir(), 'console-static-'));

  beforeAll(async () => {
    mkdirSync(path.join(staticDir, 'assets'));
    writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(path.join(staticDir, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(path.join(path.dirname(staticDir), 'outside-secret.txt'), 'not for the web');
    subscriptions = await standIn('subscriptions');
    delivery = await standIn('delivery');
    site = await startConsoleServer(
      consoleConfig({ PORT: '0', HOST: '127.0.0.1', SUBSCRIPTIONS_URL: subscriptions.url, DELIVERY_URL: `${delivery.url}/`, CONSOLE_STATIC_DIR: staticDir, CONSOLE_FRAME_ANCESTORS: "'self' https://painel.example.com" }),
    );
  });
  afterAll(async () => {
    await site?.close();
    for (const s of [subscriptions, delivery]) {
      s?.server.closeAllConnections();
      await new Promise((resolve) => s?.server.close(resolve));
    }
  });

  it('serves the page, its assets and client routes, and nothing outside the build', async () => {
    const page = await fetch(`${site.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self' https://painel.example.com",
    );
    expect(page.headers.get('x-frame-options')).toBeNull();
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const asset = await fetch(`${site.url}/assets/index-abc123.js`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await asset.text()).toBe('console.log(1)');
    expect(await (await fetch(`${site.url}/endpoints/ep_1/edit`)).text()).toContain('<title>console</title>');
    expect((await fetch(`${site.url}/assets/missing.js`)).status).toBe(404);
    for (const route of ['/endpoints', '/endpoints/new', '/endpoints/ep_1', '/messages', '/messages/msg_1', '/events']) {
      expect({ route, status: (await fetch(`${site.url}${route}`)).status }).toEqual({ route, status: 200 });
    }
    // Not the page's: a scraper, a probe or a typo gets 404 problem+json, not the page's HTML with 200.
    for (const unknown of ['/metrics', '/health', '/endpoints/ep_1/secret', '/messages/msg_1/attempts', '/wp-login.php', '/index.php']) {
      const response = await fetch(`${site.url}${unknown}`);
      expect({ unknown, status: response.status, type: response.headers.get('content-type') }).toEqual({ unknown, status: 404, type: 'application/problem+json' });
    }
    for (const sneaky of ['/..%2foutside-secret.txt', '/%2e%2e/outside-secret.txt', '/assets/..%2f..%2foutside-secret.txt']) {
      const response = await fetch(`${site.url}${sneaky}`);
      expect(await response.text()).not.toContain('not for the web');
    }
    expect((await fetch(`${site.url}/`, { method: 'POST' })).status).toBe(405);
  });

  it('proxies partner routes with method, query, body and bearer, and nothing else', async () => {
    const created = await fetch(`${site.url}/api/subscriptions/endpoints?limit=5`, {
      method: 'POST',
      headers: { authorization: 'Bearer gk_live_abc', 'content-type': 'application/json', cookie: 'session=1', 'idempotency-key': 'k1' },
      body: JSON.stringify({ url: 'https://escola.example.com' }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ service: 'subscriptions' });
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.headers.get('set-cookie')).toBeNull();
    expect(created.headers.get('x-internal')).toBeNull();
    const seen = subscriptions.seen.at(-1) as Seen;
    expect(seen).toMatchObject({ method: 'POST', url: '/endpoints?limit=5', body: '{"url":"https://escola.example.com"}' });
    expect(seen.headers).toMatchObject({ authorization: 'Bearer gk_live_abc', 'idempotency-key': 'k1' });
    expect(seen.headers.cookie).toBeUndefined();

    await fetch(`${site.url}/api/delivery/endpoints/ep_1/stats/timeseries?bucket=1h`, { headers: { authorization: 'Bearer gk_live_abc' } });
    expect(delivery.seen.at(-1)).toMatchObject({ method: 'GET', url: '/endpoints/ep_1/stats/timeseries?bucket=1h' });
    for (const [service, route] of [
      ['subscriptions', '/me'],
      ['subscriptions', '/event-types/purchase.paid/example'],
      ['subscriptions', '/operational-event-types'],
      ['subscriptions', '/endpoints/ep_1/secret/rotate'],
      ['delivery', '/messages/msg_1/resend'],
      ['delivery', '/endpoints/ep_1/recover'],
      ['delivery', '/events'],
      ['delivery', '/events/0b6e1b4e-5c1f-4c35-9d3a-3b1ec8f8b0a1'],
    ] as const) {
      expect({ route, status: (await fetch(`${site.url}/api/${service}${route}`)).status }).toEqual({ route, status: 201 });
    }

    const before = subscriptions.seen.length + delivery.seen.length;
    for (const refused of [
      '/api/subscriptions/admin/partners',
      '/api/subscriptions/metrics',
      '/api/delivery/stream',
      '/api/delivery/endpoints',
      '/api/journey/purchases',
      '/api/subscriptions/endpoints/ep_1/../../admin/partners',
    ]) {
      const response = await fetch(`${site.url}${refused}`, { headers: { authorization: 'Bearer adm_x' } });
      expect({ refused, status: response.status, type: response.headers.get('content-type') }).toEqual({ refused, status: 404, type: 'application/problem+json' });
    }
    expect(subscriptions.seen.length + delivery.seen.length).toBe(before);
  });

  it('answers 502 problem+json when a service is down, and refuses bodies over 1 MiB', async () => {
    const down = await startConsoleServer(consoleConfig({ PORT: '0', HOST: '127.0.0.1', SUBSCRIPTIONS_URL: 'http://127.0.0.1:9', CONSOLE_STATIC_DIR: staticDir }));
    try {
      const response = await fetch(`${down.url}/api/subscriptions/me`);
      expect(response.status).toBe(502);
      expect(await response.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    } finally {
      await down.close();
    }
    const big = await fetch(`${site.url}/api/subscriptions/endpoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(1024 * 1024 + 1) });
    expect(big.status).toBe(413);
  });

  it('refuses nonsense configuration', () => {
    expect(() => consoleConfig({ SUBSCRIPTIONS_URL: 'ftp://x' })).toThrow(ConsoleConfigError);
    expect(() => consoleConfig({ PORT: 'eighty' })).toThrow(ConsoleConfigError);
    expect(() => consoleConfig({ CONSOLE_FRAME_ANCESTORS: "https://ok.example.com 'unsafe-inline'" })).toThrow(/CONSOLE_FRAME_ANCESTORS/);
    expect(consoleConfig({}).frameAncestors).toBe("'none'");
  });
});
