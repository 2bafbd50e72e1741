import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { createTestDatabase, eventually, generateTestCertificates, startServiceProcess, type ServiceProcess, type TestDatabase } from '@gancho/testing';
import { accessibilityViolations, unnamedControls } from './testing/browser-checks';

// The partner console in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core), against the
// three services as built processes on the PostgreSQL event log, a real receiver on loopback and the console's own
// server (its CSP enforced throughout). Scenarios:
// - sign in: a wrong key is refused in words; the right one shows the partner and an empty state;
// - create an endpoint pointed at the receiver, choosing event types from the catalog (grouped by phase, schema and
//   example shown) and a custom header; reveal its secret, which verifies what the receiver gets;
// - a purchase opened through the journey API appears in the delivery log with its attempt; resend makes attempt 2
//   (same webhook-id at the receiver); the endpoint's health shows the success rate and latency charts;
// - keyboard only: sign in, skip link, navigation; no axe-core violation (WCAG 2 A/AA) on any screen, every form
//   control named; English switch;
// - portal: a session issued by the admin API opens the console (in an iframe of another origin) on that partner's
//   endpoints, without sign-out; the token leaves the address bar; once expired, the console says so, in use and on open;
// - one language at a time, in pt-BR and in English: catalog descriptions, a refused URL's reason (the service's
//   stable code), the ordering control, dates typed dd/mm/aaaa hh:mm or yyyy-mm-dd hh:mm (24 h), a failed message
//   shown as a scheduled retry, "Ignorar" asked twice; axe finds nothing;
// - a payload filter built for one course, a phase and a price range, its JSON shown, a refusal (a phase the chosen
//   type never has) said in words, shown back in English and kept as JSON when the builder cannot show it; axe clean;
// - endpoint authentication: Basic saved with a masked password, changed to OAuth (a metadata token URL refused in
//   words, then saved), to mTLS with a pasted certificate and key (its subject shown, the key never), in pt-BR and
//   English; a change without its secret asked again; axe finds nothing;
// - on a 390 px wide phone: no page scrolls sideways and the event-type selects fit, in both languages;
// - events: a purchase's status event that an endpoint whose server is down did not get is listed under "not
//   delivered to" it, with its state; resent from its message, it leaves the list; in English, the event's deliveries
//   to every endpoint and its data; axe finds nothing;
// - the console's server answers 404 problem+json, not the page, for a path that is none of the page's (/metrics).

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const mainOf = (app: string) => path.join(repoRoot, 'apps', app, 'dist', app === 'console' ? 'server/main.js' : 'main.js');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Set (e.g. to docs/console) to keep the screenshots; otherwise they are taken and dropped. */
const screenshotDir = process.env.CONSOLE_SCREENSHOTS ? path.resolve(repoRoot, process.env.CONSOLE_SCREENSHOTS) : undefined;

const adminToken = `adm_${randomBytes(24).toString('base64url')}`;
const platformToken = `plt_${randomBytes(24).toString('base64url')}`;
const encryptionKey = `k1:${randomBytes(32).toString('base64')}`;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A school's webhook receiver: answers 200 and keeps every request; what goes to `downUrl` fails while it is down. */
async function startReceiver(): Promise<{
  url: string;
  downUrl: string;
  host: string;
  received: Received[];
  failNext(count: number): void;
  setDown(down: boolean): void;
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  let failures = 0;
  let down = false;
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      if (failures > 0 || (down && request.url === '/down')) {
        if (!(down && request.url === '/down')) failures--;
        response.writeHead(503, { 'content-type': 'text/plain' }).end('manutenção programada');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok, recebido');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `http://${host}/webhooks/gancho`,
    downUrl: `http://${host}/down`,
    host,
    received,
    failNext: (count) => (failures = count),
    setDown: (value) => (down = value),
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** Another origin (the company's own partner dashboard) that embeds the console in an iframe. */
async function startDashboard(): Promise<{ origin: string; setFrame(src: string): void; close(): Promise<void> }> {
  let frame = 'about:blank';
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><html lang="pt-BR"><head><title>Painel da Escola</title></head>
<body style="margin:0;font-family:sans-serif;background:#eef1f5">
<header style="background:#2d1b69;color:#fff;padding:12px 20px;font-weight:700">Painel de parceiros — Escola Azul</header>
<iframe title="Console do Gancho" src="${frame}" style="border:0;width:100%;height:700px;display:block"></iframe></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setFrame: (src) => (frame = src),
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(url: string, token: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function shot(page: Page, name: string): Promise<void> {
  const file = screenshotDir ? path.join(screenshotDir, `${name}.png`) : undefined;
  const image = await page.screenshot({ fullPage: true, ...(file ? { path: file } : {}) });
  expect(image.length).toBeGreaterThan(1000);
}

/** Presses Tab until the focused element matches, as a keyboard user would. */
async function tabTo(page: Page, matches: (el: Element) => boolean, max = 40, key: 'Tab' | 'Shift+Tab' = 'Tab'): Promise<void> {
  const source = matches.toString();
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const found = await page.evaluate((fn) => {
      const test = new Function(`return (${fn})`)() as (el: Element) => boolean;
      return document.activeElement ? test(document.activeElement) : false;
    }, source);
    if (found) return;
  }
  throw new Error(`nothing matching ${source} within ${max} Tabs`);
}

describe('the partner console in a browser', () => {
  let database: TestDatabase;
  const services = {} as Record<'subscriptions' | 'journey' | 'delivery', ServiceProcess>;
  let consoleServer: ServiceProcess;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let dashboard: Awaited<ReturnType<typeof startDashboard>>;
  let browser: Browser;
  let context: BrowserContext;
  let partner: { id: string; name: string };
  let apiKey: string;
  let endpointId: string;
  let portal: { token: string; expires_at: string };
  const cspViolations: string[] = [];

  beforeAll(async () => {
    if (screenshotDir) mkdirSync(screenshotDir, { recursive: true });
    // No KAFKA_BROKERS given: the PostgreSQL event log in this test's own database, nothing shared with other test files.
    database = await createTestDatabase('console_e2e');
    receiver = await startReceiver();
    dashboard = await startDashboard();
    const common = { DATABASE_URL: database.url };
    services.subscriptions = await startServiceProcess(mainOf('subscriptions'), {
      ...common,
      SUBSCRIPTIONS_ADMIN_TOKENS: adminToken,
      SECRETS_ENCRYPTION_KEY: encryptionKey,
      ALLOW_HTTP_ENDPOINTS: 'true',
      ALLOW_PRIVATE_NETWORK_ENDPOINTS: 'true',
    });
    services.journey = await startServiceProcess(mainOf('journey'), {
      ...common,
      JOURNEY_PLATFORM_TOKENS: platformToken,
      PERSONAL_DATA_MASTER_KEYS: `m1:${Buffer.alloc(32, 4).toString('base64')}`,
      PERSONAL_DATA_INDEX_KEY: Buffer.alloc(32, 5).toString('base64'),
      SECRETS_ENCRYPTION_KEY: encryptionKey,
      PUBLISH_STATUS_V1: 'true',
    });
    services.delivery = await startServiceProcess(mainOf('delivery'), {
      ...common,
      SECRETS_ENCRYPTION_KEY: encryptionKey,
      ALLOW_HTTP_ENDPOINTS: 'true',
      ALLOWED_ENDPOINT_HOSTS: receiver.host,
      ENDPOINTS_WARMUP_MS: '1000',
      DISPATCH_POLL_MS: '100',
      // Two tries, five seconds apart: a message that failed both is exhausted and waits for "recover"; between the
      // two it is a scheduled retry, which the console must call one.
      RETRY_SCHEDULE: '0s,5s',
    });
    consoleServer = await startServiceProcess(mainOf('console'), {
      SUBSCRIPTIONS_URL: services.subscriptions.url,
      DELIVERY_URL: services.delivery.url,
      CONSOLE_FRAME_ANCESTORS: dashboard.origin,
    });
    partner = (await call(`${services.subscriptions.url}/admin/partners`, adminToken, 'POST', { name: 'Escola Azul' })).body;
    apiKey = (await call(`${services.subscriptions.url}/admin/partners/${partner.id}/api-keys`, adminToken, 'POST')).body.key;
    // Issued now and used last: the portal test waits for its minute to run out.
    portal = (await call(`${services.subscriptions.url}/admin/partners/${partner.id}/portal-sessions`, adminToken, 'POST', { ttl_seconds: 60 })).body;
    expect(portal.token).toMatch(/^gk_live_/);
    // Keys reach every service through the api-keys topic: wait until both partner APIs know them.
    for (const token of [apiKey, portal.token]) {
      await eventually(async () => expect((await call(`${consoleServer.url}/api/subscriptions/me`, token)).status).toBe(200), { timeoutMs: 20_000 });
      await eventually(async () => expect((await call(`${consoleServer.url}/api/delivery/messages?limit=1`, token)).status).toBe(200), { timeoutMs: 20_000 });
    }
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=pt-BR'] });
    context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'pt-BR', timezoneId: 'America/Sao_Paulo' });
  });
  afterAll(async () => {
    await browser?.close();
    await consoleServer?.stop();
    for (const name of ['delivery', 'journey', 'subscriptions'] as const) await services[name]?.stop();
    await receiver?.close();
    await dashboard?.close();
    await database?.drop();
  });

  async function newPage(): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
    });
    return page;
  }

  it('serves the page with its security headers, and proxies only partner routes', async () => {
    const page = await fetch(consoleServer.url);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`frame-ancestors ${dashboard.origin}`);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const admin = await fetch(`${consoleServer.url}/api/subscriptions/admin/partners`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(admin.status).toBe(404);
    expect((await call(`${consoleServer.url}/api/subscriptions/me`, apiKey)).body).toMatchObject({ partner: { id: partner.id, name: 'Escola Azul' } });
  });

  it('signs in with an API key, creates an endpoint, follows a purchase’s delivery and resends it', async () => {
    const page = await newPage();
    await page.goto(consoleServer.url);
    await page.getByRole('heading', { name: 'Entrar no console' }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await unnamedControls(page)).toEqual([]);
    await shot(page, 'sign-in');

    await page.getByLabel('Chave de API').fill(`gk_live_${'x'.repeat(43)}`);
    await page.getByRole('button', { name: 'Entrar' }).click();
    await page.getByText('Chave de API inválida: desconhecida ou revogada.').waitFor();

    await page.getByLabel('Chave de API').fill(apiKey);
    await page.getByRole('button', { name: 'Entrar' }).click();
    await page.getByText('Nenhum endpoint ainda').waitFor();
    await page.getByText('Escola Azul', { exact: true }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await shot(page, 'endpoints-empty');
    // The key is in memory only.
    const stored = await page.evaluate(() => JSON.stringify({ ...window.localStorage }) + JSON.stringify({ ...window.sessionStorage }) + document.cookie);
    expect(stored).not.toContain(apiKey.slice(8));

    await page.getByRole('link', { name: 'Novo endpoint' }).first().click();
    await page.getByRole('heading', { name: 'Novo endpoint' }).waitFor();
    await page.getByLabel('URL do endpoint').fill(receiver.url);
    await page.getByLabel('Descrição').fill('Matrículas da Escola Azul');
    await page.getByLabel('Escolher tipos de evento').check();
    const openPhase = page.getByRole('group', { name: 'Fase: Em aberto' });
    await openPhase.getByLabel('Todos desta fase').check();
    const won = page.getByRole('group', { name: 'Fase: Ganho' });
    await won.getByText('Tipos desta fase (0 de 1 escolhidos)').click();
    await won.getByRole('checkbox', { name: 'purchase.made_effective' }).check();
    await won.getByText('Tipos desta fase (1 de 1 escolhidos)').waitFor();
    await page.getByText('Esquema e exemplo purchase.made_effective').click();
    await page.getByLabel('Exemplo purchase.made_effective').waitFor();
    expect(await page.getByLabel('Esquema JSON purchase.made_effective').textContent()).toContain('"purchase.made_effective"');
    await page.getByRole('button', { name: 'Adicionar cabeçalho' }).click();
    await page.getByLabel('Nome do cabeçalho 1').fill('X-Escola');
    await page.getByLabel('Valor do cabeçalho 1').fill('azul');
    expect(await unnamedControls(page)).toEqual([]);
    expect(await accessibilityViolations(page)).toEqual([]);
    await shot(page, 'endpoint-form');
    await page.getByRole('button', { name: 'Criar endpoint' }).click();
    await page.getByText('Endpoint salvo.').waitFor();
    endpointId = /\/endpoints\/(ep_[0-9a-f]+)/.exec(page.url())?.[1] as string;
    expect(endpointId).toBeTruthy();
    // The change history names the header, never its value.
    const created = page.getByRole('row').filter({ hasText: 'EndpointCreated' });
    await created.waitFor();
    expect(await created.textContent()).toContain('X-Escola');
    expect(await created.textContent()).not.toContain('azul"');

    await page.getByRole('button', { name: 'Mostrar segredo' }).click();
    const secret = (await page.getByTestId('secret-current').textContent()) as string;
    expect(secret).toMatch(/^whsec_/);

    // Delivery learns of the endpoint from the endpoints topic; then a purchase opens.
    await eventually(async () => expect((await call(`${services.delivery.url}/endpoints/${endpointId}/stats`, apiKey)).status).toBe(200), { timeoutMs: 20_000 });
    const opened = await call(`${services.journey.url}/purchases`, platformToken, 'POST', {
      partner_id: partner.id,
      course: { id: 'crs_ds', name: 'Ciência de Dados', price_cents: 1234500, currency: 'BRL' },
      student: { name: 'Ana Souza', email: 'ana@example.com' },
    });
    expect(opened.status).toBe(201);

    await page.getByRole('link', { name: 'Entregas', exact: true }).click();
    await page.getByRole('heading', { name: 'Entregas', level: 1 }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'purchase.shopping_cart_created' });
    await row.getByText('Entregue').waitFor({ timeout: 20_000 });
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await unnamedControls(page)).toEqual([]);
    await shot(page, 'messages');
    // Filters: by type and status (kept in the URL), then one that matches nothing.
    await page.getByLabel('Tipo de evento').selectOption('purchase.shopping_cart_created');
    await page.getByLabel('Situação').selectOption('succeeded');
    await page.getByRole('button', { name: 'Filtrar' }).click();
    await page.waitForURL(/event_type=purchase.shopping_cart_created&status=succeeded|status=succeeded.*event_type=purchase.shopping_cart_created/);
    await row.getByText('Entregue').waitFor();
    await page.getByLabel('Tipo de evento').selectOption('purchase.paid');
    await page.getByRole('button', { name: 'Filtrar' }).click();
    await page.getByText('Nenhuma entrega com esses filtros.').waitFor();
    await page.getByRole('link', { name: 'Limpar filtros' }).click();

    await row.getByRole('link').first().click();
    await page.getByRole('heading', { name: /^Entrega msg_/ }).waitFor();
    await eventually(async () => expect(await page.getByTestId('attempt-row').count()).toBe(1));
    expect(await page.getByTestId('attempt-row').first().textContent()).toContain('200');
    expect(await page.locator('pre[aria-label="Conteúdo enviado"]').textContent()).toContain(opened.body.purchase_id);
    await page.getByRole('button', { name: 'Reenviar' }).click();
    await page.getByText('Reenvio pedido.', { exact: false }).waitFor();
    await eventually(async () => expect(await page.getByTestId('attempt-row').count()).toBe(2), { timeoutMs: 20_000 });
    expect(await page.getByTestId('attempt-row').nth(1).textContent()).toMatch(/^2.*200/);
    expect(await accessibilityViolations(page)).toEqual([]);
    await shot(page, 'message-detail');

    const ofPurchase = receiver.received.filter((r) => r.body.includes(opened.body.purchase_id));
    expect(ofPurchase).toHaveLength(2);
    expect(ofPurchase[1]?.headers['webhook-id']).toBe(ofPurchase[0]?.headers['webhook-id']);
    expect(ofPurchase[0]?.headers['x-escola']).toBe('azul');
    // The secret the console revealed verifies what was delivered.
    for (const request of ofPurchase) expect(() => new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).not.toThrow();

    // The receiver is down for two tries: a test event fails both, with the response shown, and is out of retries.
    await page.getByRole('link', { name: endpointId }).click();
    await page.getByRole('heading', { name: 'Saúde' }).waitFor();
    receiver.failNext(2);
    await page.getByLabel('Tipo de evento').selectOption('purchase.paid');
    await page.getByRole('button', { name: 'Enviar teste' }).click();
    await page.getByRole('link', { name: 'Ver a entrega' }).click();
    await eventually(async () => expect(await page.getByTestId('attempt-row').count()).toBe(2), { timeoutMs: 20_000 });
    await page.getByText('Esgotou as tentativas').first().waitFor();
    expect(await page.getByTestId('attempt-row').nth(0).textContent()).toMatch(/^1.*503.*nova tentativa agendada.*manutenção programada/);
    expect(await page.getByTestId('attempt-row').nth(1).textContent()).toMatch(/^2.*503.*tentativas esgotadas.*manutenção programada/);
    await shot(page, 'message-failed');
    // The receiver is back: "recover" resends what failed in the last 24 h (the default window).
    await page.getByRole('link', { name: endpointId }).click();
    await page.getByRole('button', { name: 'Reenviar as que falharam' }).click();
    await page.getByText('1 mensagens reenviadas.').waitFor();
    await eventually(() => expect(receiver.received.filter((r) => r.body.includes('"purchase.paid"'))).toHaveLength(3));
    await page.getByRole('img', { name: 'Taxa de sucesso ao longo do tempo' }).waitFor();
    await page.getByRole('img', { name: 'Latência ao longo do tempo (ms)' }).waitFor();
    // Five attempts in all: the purchase's two, and the test event's three (two failed).
    await eventually(async () => {
      await page.getByRole('button', { name: 'Atualizar' }).click();
      expect(await page.locator('.kpis').textContent()).toContain('60%');
    });
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await unnamedControls(page)).toEqual([]);
    await shot(page, 'endpoint-detail');

    await page.getByLabel('Idioma').first().selectOption('en');
    await page.getByRole('heading', { name: 'Health' }).waitFor();
    await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
    await page.getByRole('heading', { name: 'Deliveries', level: 1 }).waitFor();
    await page.getByLabel('Language').selectOption('pt-BR');
    expect(cspViolations).toEqual([]);
    await page.close();
  });

  it('creates an ActiveCampaign endpoint with a masked token, shows its type, and deletes it', async () => {
    const page = await newPage();
    await page.goto(`${consoleServer.url}/?lang=pt-BR`);
    await page.getByLabel('Chave de API').fill(apiKey);
    await page.getByRole('button', { name: 'Entrar' }).click();
    await page.getByRole('link', { name: 'Novo endpoint' }).first().click();
    await page.getByLabel('ActiveCampaign').check();
    expect(await page.getByLabel('URL do endpoint').count()).toBe(0);
    await page.getByLabel('URL da API do ActiveCampaign').fill('http://127.0.0.1:9');
    const token = `ac${randomBytes(16).toString('hex')}Z9k4`;
    const tokenInput = page.getByLabel('Token da API do ActiveCampaign');
    expect(await tokenInput.getAttribute('type')).toBe('password');
    await tokenInput.fill(token);
    await page.getByLabel('Escolher tipos de evento').check();
    await page.getByRole('group', { name: 'Fase: Pós-venda' }).getByText('Tipos desta fase', { exact: false }).click();
    await page.getByRole('checkbox', { name: 'purchase.fully_paid' }).check();
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Criar endpoint' }).click();
    await page.getByText('Endpoint salvo.').waitFor();
    await page.getByText('••••••••Z9k4').waitFor();
    expect(await page.getByRole('heading', { name: 'Segredo de assinatura' }).count()).toBe(0);
    expect(await page.content()).not.toContain(token);
    await shot(page, 'endpoint-activecampaign');
    await page.getByRole('link', { name: 'Endpoints', exact: true }).click();
    await page.getByRole('row').filter({ hasText: 'ActiveCampaign' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Webhook' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'ActiveCampaign' }).getByRole('link').click();
    await page.getByRole('button', { name: 'Excluir' }).click();
    await page.getByRole('group', { name: 'Excluir este endpoint? Nada mais será entregue a ele.' }).getByRole('button', { name: 'Sim' }).click();
    await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    await eventually(async () => expect(await page.getByRole('row').filter({ hasText: 'ActiveCampaign' }).count()).toBe(0));
    await page.close();
  });

  it('builds a payload filter (course, phase, price), shows its JSON, and says why the service refuses one, in both languages', async () => {
    const page = await newPage();
    await page.goto(`${consoleServer.url}/?lang=pt-BR`);
    await page.getByLabel('Chave de API').fill(apiKey);
    await page.getByRole('button', { name: 'Entrar' }).click();
    await page.getByRole('link', { name: 'Novo endpoint' }).first().click();
    await page.getByLabel('URL do endpoint').fill(receiver.url);
    await page.getByLabel('Escolher tipos de evento').check();
    const won = page.getByRole('group', { name: 'Fase: Ganho' });
    await won.getByText('Tipos desta fase', { exact: false }).click();
    await won.getByRole('checkbox', { name: 'purchase.made_effective' }).check();
    const filter = page.getByRole('group', { name: 'Filtro do conteúdo' });
    await filter.getByText('Sem filtro: todos os eventos escolhidos são entregues.').waitFor();
    await filter.getByLabel('Curso (id)').fill('crs_ds');
    await filter.getByLabel('Preço acima de (R$)').fill('1000');
    // A phase that purchase.made_effective never has: the service refuses it by its stable code, said in Portuguese.
    await filter.getByLabel('Fase').selectOption('open');
    const json = filter.getByLabel('Filtro em JSON (como a API recebe)');
    expect(JSON.parse((await json.textContent()) as string)).toEqual({ 'course.id': 'crs_ds', phase: 'open', 'course.price_cents': { $gt: 100000 } });
    await page.getByRole('button', { name: 'Criar endpoint' }).click();
    await page.getByText('O filtro do conteúdo não combina com os tipos de evento escolhidos: phase: nenhum tipo de evento escolhido tem este valor.').waitFor();
    await filter.getByLabel('Fase').selectOption('won');
    await filter.getByLabel('Preço abaixo de (R$)').fill('12,5x');
    await filter.getByText('Um valor em reais, com no máximo dois decimais.').waitFor();
    await filter.getByLabel('Preço abaixo de (R$)').fill('');
    expect(await unnamedControls(page)).toEqual([]);
    expect(await accessibilityViolations(page)).toEqual([]);
    await shot(page, 'endpoint-form-filter');
    await page.getByRole('button', { name: 'Criar endpoint' }).click();
    await page.getByText('Endpoint salvo.').waitFor();
    const filteredId = /\/endpoints\/(ep_[0-9a-f]+)/.exec(page.url())?.[1] as string;
    const saved = { 'course.id': 'crs_ds', phase: 'won', 'course.price_cents': { $gt: 100000 } };
    expect((await call(`${services.subscriptions.url}/endpoints/${filteredId}`, apiKey)).body.payload_filter).toEqual(saved);
    expect(JSON.parse((await page.getByLabel('Filtro em JSON (como a API recebe)').textContent()) as string)).toEqual(saved);
    expect(await accessibilityViolations(page)).toEqual([]);

    // In English: the builder shows the saved filter back; a bound below is added.
    await page.getByLabel('Idioma').first().selectOption('en');
    await page.getByRole('link', { name: 'Edit' }).click();
    const payloadFilter = page.getByRole('group', { name: 'Payload filter' });
    expect(await payloadFilter.getByLabel('Course (id)').inputValue()).toBe('crs_ds');
    expect(await payloadFilter.getByLabel('Phase').inputValue()).toBe('won');
    expect(await payloadFilter.getByLabel('Price above (BRL)').inputValue()).toBe('1000');
    await payloadFilter.getByLabel('Price below (BRL)').fill('20000');
    expect(JSON.parse((await payloadFilter.getByLabel('Filter as JSON (as the API receives it)').textContent()) as string)).toEqual({ ...saved, 'course.price_cents': { $gt: 100000, $lt: 2000000 } });
    expect(await unnamedControls(page)).toEqual([]);
    expect(await accessibilityViolations(page)).toEqual([]);
    await shot(page, 'endpoint-form-filter-en');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Endpoint saved.').waitFor();
    expect((await call(`${services.subscriptions.url}/endpoints/${filteredId}`, apiKey)).body.payload_filter).toEqual({ ...saved, 'course.price_cents': { $gt: 100000, $lt: 2000000 } });

    // A filter written through the API that the builder cannot show is kept as it is, and shown as JSON.
    const advanced = { $or: [{ 'course.id': 'crs_ds' }, { 'course.price_cents': { $gte: 500000 } }] };
    expect((await call(`${services.subscriptions.url}/endpoints/${filteredId}`, apiKey, 'PATCH', { payload_filter: advanced })).status).toBe(200);
    // The form reads the endpoint afresh when it opens.
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByText('This endpoint has a filter written through the API that the builder cannot show; it is kept as it is.').waitFor();
    await page.getByLabel('Description').fill('Matrículas caras');
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Endpoint saved.').waitFor();
    expect((await call(`${services.subscriptions.url}/endpoints/${filteredId}`, apiKey)).body).toMatchObject({ description: 'Matrículas caras', payload_filter: advanced });
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('group', { name: 'Delete this endpoint? Nothing will be delivered to it any more.' }).getByRole('button', { name: 'Yes' }).click();
    await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    await page.close();
  });

  it('saves endpoint authentication masked: Basic, OAuth client credentials and mTLS, in pt-BR and English', async () => {
    const certificates = generateTestCertificates();
    const page = await newPage();
    await page.goto(`${consoleServer.url}/?lang=pt-BR`);
    await page.getByLabel('Chave de API').fill(apiKey);
    await page.getByRole('button', { name: 'Entrar' }).click();
    await page.getByRole('link', { name: 'Novo endpoint' }).first().click();
    await page.getByLabel('URL do endpoint').fill('https://127.0.0.1:9/autenticado');
    await page.getByLabel('Todos os eventos').check();
    const auth = page.getByRole('group', { name: 'Autenticação' });
    await auth.getByLabel('HTTP Basic').check();
    await auth.getByLabel('Usuário').fill('escola');
    const password = `senha-${randomBytes(8).toString('hex')}-Q7w2`;
    expect(await auth.getByLabel('Senha').getAttribute('type')).toBe('password');
    await auth.getByLabel('Senha').fill(password);
    expect(await unnamedControls(page)).toEqual([]);
    expect(await accessibilityViolations(page)).toEqual([]);
    await shot(page, 'endpoint-form-auth');
    await page.getByRole('button', { name: 'Criar endpoint' }).click();
    await page.getByText('Endpoint salvo.').waitFor();
    await page.getByText('HTTP Basic: escola · ••••••••Q7w2').waitFor();
    expect(await page.content()).not.toContain(password);
    expect(await accessibilityViolations(page)).toEqual([]);
    const authId = /\/endpoints\/(ep_[0-9a-f]+)/.exec(page.url())?.[1] as string;

    // Changing the kind of auth needs its secret: it is replaced whole.
    await page.getByRole('link', { name: 'Editar' }).click();
    await auth.getByLabel('OAuth 2.0 (client credentials)').check();
    await auth.getByLabel('URL de token').fill('http://169.254.169.254/latest/meta-data');
    await auth.getByLabel('Client ID').fill('gancho');
    await page.getByRole('button', { name: 'Salvar' }).click();
    await page.getByText('Para mudar a autenticação, digite o segredo de novo', { exact: false }).waitFor();
    await auth.getByLabel('Client secret').fill('client-secret-de-teste-X1y2');
    await auth.getByLabel('Escopo').fill('webhooks');
    await page.getByRole('button', { name: 'Salvar' }).click();
    await page.getByText('O Gancho não pode entregar nesta URL', { exact: false }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await auth.getByLabel('URL de token').fill('https://127.0.0.1:8/oauth/token');
    await page.getByRole('button', { name: 'Salvar' }).click();
    await page.getByText('Endpoint salvo.').waitFor();
    await page.getByText('OAuth 2.0 (client credentials): https://127.0.0.1:8/oauth/token · gancho · ••••••••X1y2 · Escopo: webhooks').waitFor();

    // Left alone on edit, the saved auth is kept; mTLS takes a pasted certificate and key, and shows the subject only.
    await page.getByRole('link', { name: 'Editar' }).click();
    expect(await auth.getByLabel('URL de token').inputValue()).toBe('https://127.0.0.1:8/oauth/token');
    expect(await auth.getByLabel('Client secret').inputValue()).toBe('');
    await page.getByText('Deixe vazio para manter o atual ••••••••X1y2').waitFor();
    await auth.getByLabel('TLS mútuo (certificado de cliente)').check();
    await auth.getByLabel('Certificado de cliente (PEM)').fill(certificates.client.cert);
    await auth.getByLabel('Chave privada (PEM)').fill(certificates.foreignClient.key);
    expect(await unnamedControls(page)).toEqual([]);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Salvar' }).click();
    await page.getByText('Chave privada: valor inválido', { exact: false }).waitFor();
    await auth.getByLabel('Chave privada (PEM)').fill(certificates.client.key);
    await page.getByRole('button', { name: 'Salvar' }).click();
    await page.getByText('Endpoint salvo.').waitFor();
    await page.getByText('TLS mútuo (certificado de cliente): CN=gancho-client · emitido por CN=Gancho test CA', { exact: false }).waitFor();
    expect(await page.content()).not.toContain(certificates.client.key.split('\n')[1] as string);
    await shot(page, 'endpoint-auth-mtls');

    await page.getByLabel('Idioma').first().selectOption('en');
    await page.getByText('Mutual TLS (client certificate): CN=gancho-client · issued by CN=Gancho test CA', { exact: false }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Edit' }).click();
    const authEn = page.getByRole('group', { name: 'Authentication' });
    await authEn.getByText('Current certificate: CN=gancho-client.', { exact: false }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await authEn.getByLabel('Signature only').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Endpoint saved.').waitFor();
    expect((await call(`${services.subscriptions.url}/endpoints/${authId}`, apiKey)).body.auth).toBeNull();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('group', { name: 'Delete this endpoint? Nothing will be delivered to it any more.' }).getByRole('button', { name: 'Yes' }).click();
    await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    await page.getByLabel('Language').selectOption('pt-BR');
    await page.close();
  });

  it('works with the keyboard alone', async () => {
    const page = await newPage();
    await page.goto(`${consoleServer.url}/?lang=pt-BR`);
    // The key field has focus on arrival; Enter submits.
    await page.getByLabel('Chave de API').waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('api-key');
    await page.keyboard.type(apiKey);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    // After signing in, focus is on the content; Tab goes on into it.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    // Going back up through the header (sign out, language, navigation…), the first stop on the page is the skip link.
    await tabTo(page, (el) => el.textContent === 'Pular para o conteúdo', 10, 'Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.previousElementSibling)).toBeNull();
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await tabTo(page, (el) => el.tagName === 'A' && (el.textContent ?? '').startsWith('http://'));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Saúde' }).waitFor();
    await tabTo(page, (el) => el.textContent === 'Enviar teste');
    await page.keyboard.press('Enter');
    await page.getByText('Evento de teste enviado.').waitFor();
    await tabTo(page, (el) => el.textContent === 'Entregas' && el.tagName === 'A', 80);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Entregas', level: 1 }).waitFor();
    await page.getByRole('row').filter({ hasText: 'purchase.made_effective' }).first().waitFor({ timeout: 20_000 });
    // Focus is visible: the focused control has an outline.
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
    expect(outline).not.toBe('none');
    await page.close();
  });

  it('opens in a partner dashboard’s iframe with a portal session, and says when the session has expired', async () => {
    dashboard.setFrame(`${consoleServer.url}/#portal=${portal.token}`);
    const page = await newPage();
    await page.goto(dashboard.origin);
    const frame = page.frameLocator('iframe[title="Console do Gancho"]');
    await frame.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    await frame.getByText('Escola Azul', { exact: true }).waitFor();
    await frame.getByRole('link', { name: receiver.url }).first().waitFor();
    await frame.getByText('Sessão do portal — expira às', { exact: false }).waitFor();
    expect(await frame.getByRole('button', { name: 'Sair' }).count()).toBe(0);
    const inner = page.frames().find((f) => f.url().startsWith(consoleServer.url));
    expect(inner?.url()).not.toContain(portal.token);
    await shot(page, 'portal-embedded');

    // In use when it expires: the next call says so (once both APIs refuse it).
    await eventually(
      async () => {
        expect((await call(`${consoleServer.url}/api/subscriptions/me`, portal.token)).status).toBe(401);
        expect((await call(`${consoleServer.url}/api/delivery/messages?limit=1`, portal.token)).status).toBe(401);
        // However fast the tests before this one ran: until the session's expiry, and 30 s more.
      },
      { timeoutMs: Math.max(0, Date.parse(portal.expires_at) - Date.now()) + 30_000, intervalMs: 250 },
    );
    await frame.getByRole('link', { name: 'Entregas', exact: true }).click();
    await frame.getByText('Esta sessão do portal expirou. Abra o console de novo pelo seu painel.').waitFor();

    // Opened after it expired: refused with the same words, and no sign-in form.
    const late = await newPage();
    await late.goto(`${consoleServer.url}/#portal=${portal.token}`);
    await late.getByText('Esta sessão do portal expirou. Abra o console de novo pelo seu painel.').waitFor();
    expect(await late.getByLabel('Chave de API').count()).toBe(0);
    expect(await accessibilityViolations(late)).toEqual([]);
    await shot(late, 'portal-expired');
    // A token that never was.
    await late.goto(`${consoleServer.url}/endpoints#portal=gk_live_${'y'.repeat(43)}`);
    await late.getByText('Este link do portal não é válido.', { exact: false }).waitFor();
    expect(cspViolations).toEqual([]);
  });

  it('speaks one language at a time: descriptions, refusals, ordering, dates, retries and confirmations', async () => {
    const page = await newPage();
    await page.goto(`${consoleServer.url}/?lang=pt-BR`);
    await page.getByLabel('Chave de API').fill(apiKey);
    await page.getByRole('button', { name: 'Entrar' }).click();
    await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();

    // The catalog in Portuguese; a URL the policy refuses (cloud metadata: refused even where private networks are
    // allowed), its reason in words.
    await page.getByRole('link', { name: 'Novo endpoint' }).first().click();
    await page.getByLabel('Escolher tipos de evento').check();
    const won = page.getByRole('group', { name: 'Fase: Ganho' });
    await won.getByText('Tipos desta fase', { exact: false }).click();
    await won.getByText('A compra foi concluída: a escola pode matricular o aluno.').waitFor();
    await won.getByRole('checkbox', { name: 'purchase.made_effective' }).check();
    await page.getByText('Esquema e exemplo purchase.made_effective').click();
    const schema = page.getByLabel('Esquema JSON purchase.made_effective');
    await schema.waitFor();
    // The schema panel is not clipped: its phase takes the form's whole width, its lines wrap (nothing hidden to the
    // side), and it is wholly inside the form.
    const panel = await schema.evaluate((el) => {
      const box = el.getBoundingClientRect();
      const form = (el.closest('form') as HTMLElement).getBoundingClientRect();
      const phase = (el.closest('fieldset.phase') as HTMLElement).getBoundingClientRect();
      const events = (el.closest('fieldset.events') as HTMLElement).getBoundingClientRect();
      return { inside: box.left >= form.left - 1 && box.right <= form.right + 1, nothingToTheSide: el.scrollWidth <= el.clientWidth + 1, wholeRow: phase.width > events.width * 0.8 };
    });
    expect(panel).toEqual({ inside: true, nothingToTheSide: true, wholeRow: true });
    await page.getByLabel('URL do endpoint').fill('http://169.254.169.254/latest/meta-data/');
    await page.getByRole('button', { name: 'Criar endpoint' }).click();
    await page.getByText('O Gancho não pode entregar nesta URL: é um serviço de metadados de nuvem.').waitFor();
    expect(await page.getByText('Gancho cannot deliver', { exact: false }).count()).toBe(0);
    // The ordering control: per purchase, kept by the service and shown back.
    await page.getByLabel('URL do endpoint').fill(receiver.url);
    await page.getByLabel('Na ordem de cada compra').check();
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await unnamedControls(page)).toEqual([]);
    await shot(page, 'endpoint-form-ordering');
    await page.getByRole('button', { name: 'Criar endpoint' }).click();
    await page.getByText('Endpoint salvo.').waitFor();
    const orderedId = /\/endpoints\/(ep_[0-9a-f]+)/.exec(page.url())?.[1] as string;
    expect((await call(`${services.subscriptions.url}/endpoints/${orderedId}`, apiKey)).body.ordering).toBe('per_purchase');
    await page.getByRole('definition').filter({ hasText: 'Na ordem de cada compra' }).waitFor();

    // The same refusal in English, by the same stable code.
    await page.getByLabel('Idioma').first().selectOption('en');
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Endpoint URL').fill('http://169.254.169.254/latest/meta-data/');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Gancho cannot deliver to this URL: it is a cloud metadata service.').waitFor();
    await page.getByText('In each purchase’s order').waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.getByLabel('Language').selectOption('pt-BR');

    // A test event that fails once: a scheduled retry, with the answer that failed — not "waiting to be sent".
    await eventually(async () => expect((await call(`${services.delivery.url}/endpoints/${orderedId}/stats`, apiKey)).status).toBe(200), { timeoutMs: 20_000 });
    await page.getByRole('heading', { name: 'Saúde' }).waitFor();
    receiver.failNext(2);
    await page.getByLabel('Tipo de evento').selectOption('purchase.paid');
    await page.getByRole('button', { name: 'Enviar teste' }).click();
    await page.getByRole('link', { name: 'Ver a entrega' }).click();
    await page.getByText('Falhou 1× (última resposta: 503); nova tentativa agendada').waitFor({ timeout: 20_000 });
    expect(await page.getByText('Aguardando', { exact: false }).count()).toBe(0);
    expect(await accessibilityViolations(page)).toEqual([]);
    await shot(page, 'message-retrying');
    // "Ignorar" asks first; "Não" leaves the message alone, "Sim" skips it.
    await page.getByRole('button', { name: 'Ignorar' }).click();
    const question = page.getByRole('group', { name: 'Ignorar esta mensagem? Ela não será mais enviada (você pode reenviá-la depois).' });
    await question.getByRole('button', { name: 'Não' }).click();
    expect(await question.count()).toBe(0);
    await page.getByRole('button', { name: 'Ignorar' }).click();
    await question.getByRole('button', { name: 'Sim' }).click();
    await page.getByText('Mensagem ignorada.').waitFor();
    await page.locator('.badge', { hasText: 'Ignorada' }).waitFor();

    // Dates as people type them in Portuguese: dd/mm/aaaa hh:mm, 24 h; the browser's mm/dd order is refused.
    await page.getByRole('link', { name: 'Entregas', exact: true }).click();
    const since = page.getByLabel('Desde');
    expect(await since.getAttribute('placeholder')).toBe('dd/mm/aaaa hh:mm');
    await since.fill('12/31/2025 14:30');
    await page.getByRole('button', { name: 'Filtrar' }).click();
    await page.getByText('Data inválida. Use dd/mm/aaaa hh:mm (24 h).').waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await since.fill('31/12/2025 14:30');
    await page.getByRole('button', { name: 'Filtrar' }).click();
    // 14:30 in São Paulo (UTC−3) is 17:30 UTC.
    await page.waitForURL(/since=2025-12-31T17%3A30%3A00.000Z/);
    await page.getByRole('row').filter({ hasText: 'purchase.paid' }).first().waitFor();
    expect(await page.getByLabel('Desde').inputValue()).toBe('31/12/2025 14:30');
    await shot(page, 'messages-dates');
    // In English: the same instant, as yyyy-mm-dd hh:mm.
    await page.getByLabel('Idioma').first().selectOption('en');
    const sinceEn = page.getByLabel('Since');
    expect(await sinceEn.getAttribute('placeholder')).toBe('yyyy-mm-dd hh:mm');
    expect(await sinceEn.inputValue()).toBe('2025-12-31 14:30');
    await page.getByRole('cell', { name: 'Skipped' }).first().waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByLabel('Language').selectOption('pt-BR');
    expect(cspViolations).toEqual([]);
    await page.close();
  });

  it('holds on a 390 px wide phone, in both languages', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'pt-BR', timezoneId: 'America/Sao_Paulo' });
    try {
      const page = await phone.newPage();
      /** How far the page scrolls sideways (0 when it fits), and each select sticking out of the screen. */
      const overflow = () =>
        page.evaluate(() => ({
          sideways: Math.max(0, document.documentElement.scrollWidth - window.innerWidth),
          selects: Array.from(document.querySelectorAll('select'))
            .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
            .map((el) => el.id),
        }));
      await page.goto(`${consoleServer.url}/?lang=pt-BR`);
      await page.getByLabel('Chave de API').fill(apiKey);
      await page.getByRole('button', { name: 'Entrar' }).click();
      await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
      for (const language of ['pt-BR', 'en'] as const) {
        const [deliveries, health, newEndpoint] = language === 'pt-BR' ? ['Entregas', 'Saúde', 'Novo endpoint'] : ['Deliveries', 'Health', 'New endpoint'];
        if (language === 'en') await page.getByLabel('Idioma').first().selectOption('en');
        await page.getByRole('link', { name: deliveries, exact: true }).click();
        await page.getByRole('heading', { name: deliveries, level: 1 }).waitFor();
        await page.getByRole('row').filter({ hasText: 'purchase.' }).first().waitFor({ timeout: 20_000 });
        expect({ language, screen: 'messages', ...(await overflow()) }).toEqual({ language, screen: 'messages', sideways: 0, selects: [] });
        expect(await accessibilityViolations(page)).toEqual([]);
        await shot(page, `phone-messages-${language}`);
        await page.getByRole('link', { name: 'Endpoints', exact: true }).click();
        await page.getByRole('link', { name: receiver.url }).first().click();
        await page.getByRole('heading', { name: health }).waitFor();
        await page.locator('.kpis').waitFor();
        expect({ language, screen: 'endpoint', ...(await overflow()) }).toEqual({ language, screen: 'endpoint', sideways: 0, selects: [] });
        expect(await accessibilityViolations(page)).toEqual([]);
        await shot(page, `phone-endpoint-${language}`);
        await page.getByRole('link', { name: 'Endpoints', exact: true }).click();
        await page.getByRole('link', { name: newEndpoint }).first().click();
        await page.locator('#events-some').check();
        await page.locator('details.phase-types > summary').first().click();
        await page.locator('.type-option details summary').first().click();
        await page.locator('.type-option details[open] pre.json').last().waitFor();
        expect({ language, screen: 'form', ...(await overflow()) }).toEqual({ language, screen: 'form', sideways: 0, selects: [] });
        expect(await accessibilityViolations(page)).toEqual([]);
        await shot(page, `phone-form-${language}`);
      }
    } finally {
      await phone.close();
    }
  });

  it('lists the events an endpoint whose server was down did not get, and a resend takes one off the list', async () => {
    const created = await call(`${services.subscriptions.url}/endpoints`, apiKey, 'POST', { url: receiver.downUrl, event_types: ['purchase.shopping_cart_created'] });
    expect(created.status).toBe(201);
    const downId = created.body.id as string;
    await eventually(async () => expect((await call(`${services.delivery.url}/endpoints/${downId}/stats`, apiKey)).status).toBe(200), { timeoutMs: 20_000 });
    receiver.setDown(true);
    const opened = await call(`${services.journey.url}/purchases`, platformToken, 'POST', {
      partner_id: partner.id,
      course: { id: 'crs_ux', name: 'Design de Interfaces', price_cents: 450000, currency: 'BRL' },
      student: { name: 'Bruno Lima', email: 'bruno@example.com' },
    });
    expect(opened.status).toBe(201);
    const purchaseId = opened.body.purchase_id as string;

    const page = await newPage();
    await page.goto(`${consoleServer.url}/?lang=pt-BR`);
    await page.getByLabel('Chave de API').fill(apiKey);
    await page.getByRole('button', { name: 'Entrar' }).click();
    await page.getByRole('link', { name: 'Eventos', exact: true }).click();
    await page.getByRole('heading', { name: 'Eventos', level: 1 }).waitFor();
    await page.getByLabel('Não entregues ao endpoint').selectOption(downId);
    await page.getByRole('button', { name: 'Filtrar' }).click();
    await page.waitForURL(new RegExp(`undelivered_to=${downId}`));
    const row = page.getByTestId('event-row').filter({ hasText: purchaseId });
    // Two tries five seconds apart, both refused: out of retries.
    await row.getByText('Esgotou as tentativas').waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toContain('purchase.shopping_cart_created');
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await unnamedControls(page)).toEqual([]);
    await shot(page, 'events-undelivered');

    // The server is back: the partner opens the delivery from the event and resends it.
    receiver.setDown(false);
    await row.getByRole('link', { name: 'Esgotou as tentativas' }).click();
    await page.getByRole('heading', { name: /^Entrega msg_/ }).waitFor();
    await page.getByRole('button', { name: 'Reenviar' }).click();
    await page.getByText('Reenvio pedido.', { exact: false }).waitFor();
    await eventually(async () => expect(await page.getByTestId('attempt-row').count()).toBe(3), { timeoutMs: 20_000 });
    await page.getByRole('link', { name: 'Eventos', exact: true }).click();
    await page.getByLabel('Não entregues ao endpoint').selectOption(downId);
    await page.getByLabel('Compra (purchase_id)').fill(purchaseId);
    await page.getByRole('button', { name: 'Filtrar' }).click();
    await page.getByText('Nenhum evento com esses filtros.').waitFor();

    // In English, by purchase: the event's delivery to each endpoint that takes it, and its data.
    await page.getByLabel('Idioma').first().selectOption('en');
    await page.getByRole('link', { name: 'Events', exact: true }).click();
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
    await page.getByLabel('Purchase (purchase_id)').fill(purchaseId);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(new RegExp(`purchase_id=${purchaseId}`));
    // The purchase's one event, once the filtered page has replaced the unfiltered one.
    await eventually(async () => expect(await page.getByTestId('event-row').count()).toBe(1));
    const english = page.getByTestId('event-row').filter({ hasText: purchaseId });
    expect(await english.textContent()).toContain('purchase.shopping_cart_created');
    const [ours] = (await call(`${services.delivery.url}/events?purchase_id=${purchaseId}`, apiKey)).body.items;
    expect(ours.deliveries.length).toBeGreaterThanOrEqual(1);
    expect(await english.getByText('Delivered').count()).toBe(ours.deliveries.length);
    expect(await english.textContent()).toContain(receiver.downUrl);
    await english.getByText('Show data').click();
    expect(await english.getByLabel(`Data of event ${ours.event_id}`).textContent()).toContain(purchaseId);
    expect(await accessibilityViolations(page)).toEqual([]);
    await shot(page, 'events');
    await page.getByLabel('Language').selectOption('pt-BR');
    expect(cspViolations).toEqual([]);
    await page.close();
  });

  it('answers 404 problem+json, not the page, for a path that is none of the page’s', async () => {
    for (const unknown of ['/metrics', '/endpoints/ep_1/secret', '/favicon.ico.php']) {
      const response = await fetch(`${consoleServer.url}${unknown}`);
      expect({ unknown, status: response.status, type: response.headers.get('content-type') }).toEqual({ unknown, status: 404, type: 'application/problem+json' });
    }
    expect((await fetch(`${consoleServer.url}/messages/msg_1`)).status).toBe(200);
  });
});
