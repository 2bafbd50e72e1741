import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { createTestDatabase, eventually, startServiceProcess, type ServiceProcess, type TestDatabase } from '@gancho/testing';
import { accessibilityViolations, unnamedControls } from './testing/browser-checks';

// Operational webhooks in the partner console (headless Chromium), against subscriptions and delivery as built
// processes on the PostgreSQL event log and real receivers on loopback:
// - in pt-BR, the endpoint form lists the operational event types of the catalog, each described in Portuguese, with
//   its schema; an endpoint for the operations team is created with only endpoint.disabled and endpoint.enabled (no
//   purchase events); its page shows them; axe finds nothing on the form or the page;
// - another endpoint of the partner is disabled and enabled again: the operations receiver gets endpoint.disabled and
//   endpoint.enabled, signed with its own secret; the endpoint disabled gets nothing about itself;
// - in English, the edit form shows the same choice in English (axe finds nothing); unticking endpoint.enabled saves.
const repoRoot = path.resolve(__dirname, '..', '..', '..');
const mainOf = (app: string) => path.join(repoRoot, 'apps', app, 'dist', app === 'console' ? 'server/main.js' : 'main.js');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const adminToken = `adm_${randomBytes(24).toString('base64url')}`;
const encryptionKey = `k1:${randomBytes(32).toString('base64')}`;

/** A receiver on loopback that keeps every request and checks its signature against `secrets` (Standard Webhooks). */
class Receiver {
  readonly received: { headers: IncomingHttpHeaders; body: string }[] = [];
  readonly verificationFailures: string[] = [];
  secrets: string[] = [];
  private readonly server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const verified = this.secrets.some((secret) => {
        try {
          new Webhook(secret).verify(body, request.headers as Record<string, string>);
          return true;
        } catch {
          return false;
        }
      });
      if (!verified) this.verificationFailures.push(String(request.headers['webhook-id']));
      this.received.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  url(): string {
    return `http://${this.host}/webhooks`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
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

describe('operational webhooks in the partner console', () => {
  let database: TestDatabase;
  let subscriptions: ServiceProcess;
  let delivery: ServiceProcess;
  let consoleServer: ServiceProcess;
  const ops = new Receiver();
  const enrollment = new Receiver();
  let browser: Browser;
  let context: BrowserContext;
  let apiKey: string;

  beforeAll(async () => {
    // No KAFKA_BROKERS given: the PostgreSQL event log in this test's own database.
    database = await createTestDatabase('console_operational_e2e');
    await Promise.all([ops.start(), enrollment.start()]);
    subscriptions = await startServiceProcess(mainOf('subscriptions'), {
      DATABASE_URL: database.url,
      SUBSCRIPTIONS_ADMIN_TOKENS: adminToken,
      SECRETS_ENCRYPTION_KEY: encryptionKey,
      ALLOW_HTTP_ENDPOINTS: 'true',
      ALLOW_PRIVATE_NETWORK_ENDPOINTS: 'true',
    });
    delivery = await startServiceProcess(mainOf('delivery'), {
      DATABASE_URL: database.url,
      SECRETS_ENCRYPTION_KEY: encryptionKey,
      ALLOW_HTTP_ENDPOINTS: 'true',
      ALLOWED_ENDPOINT_HOSTS: `${ops.host},${enrollment.host}`,
      ENDPOINTS_WARMUP_MS: '1000',
      DISPATCH_POLL_MS: '100',
    });
    consoleServer = await startServiceProcess(mainOf('console'), { SUBSCRIPTIONS_URL: subscriptions.url, DELIVERY_URL: delivery.url });
    const partner = (await call(`${subscriptions.url}/admin/partners`, adminToken, 'POST', { name: 'Escola Azul' })).body;
    apiKey = (await call(`${subscriptions.url}/admin/partners/${partner.id}/api-keys`, adminToken, 'POST')).body.key;
    await eventually(async () => expect((await call(`${consoleServer.url}/api/subscriptions/me`, apiKey)).status).toBe(200), { timeoutMs: 20_000 });
    await eventually(async () => expect((await call(`${consoleServer.url}/api/delivery/messages?limit=1`, apiKey)).status).toBe(200), { timeoutMs: 20_000 });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=pt-BR'] });
    context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'pt-BR', timezoneId: 'America/Sao_Paulo' });
  });
  afterAll(async () => {
    await browser?.close();
    await consoleServer?.stop();
    await delivery?.stop();
    await subscriptions?.stop();
    await Promise.all([ops.stop(), enrollment.stop()]);
    await database?.drop();
  });

  async function signIn(): Promise<Page> {
    const page = await context.newPage();
    await page.goto(consoleServer.url);
    await page.getByLabel('Chave de API').fill(apiKey);
    await page.getByRole('button', { name: 'Entrar' }).click();
    await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    return page;
  }

  it('creates an operations endpoint in pt-BR, which is told of another endpoint disabled and enabled, and edits it in English', async () => {
    const page = await signIn();
    await page.getByRole('link', { name: 'Novo endpoint' }).first().click();
    await page.getByRole('heading', { name: 'Novo endpoint' }).waitFor();
    await page.getByLabel('URL do endpoint').fill(ops.url());
    await page.getByLabel('Descrição').fill('Equipe de operações');
    await page.getByLabel('Escolher tipos de evento').check();
    const operational = page.getByRole('group', { name: 'Eventos operacionais' });
    await operational.getByText('Um endpoint nunca recebe avisos sobre si mesmo.', { exact: false }).waitFor();
    for (const type of ['endpoint.disabled', 'endpoint.enabled', 'endpoint.recovered', 'endpoint.secret_rotation_ending', 'message.exhausted']) {
      await operational.getByRole('checkbox', { name: type }).waitFor();
    }
    await operational.getByText('Um endpoint foi desativado (por você, ou pelo Gancho', { exact: false }).waitFor();
    await operational.getByRole('checkbox', { name: 'endpoint.disabled' }).check();
    await operational.getByRole('checkbox', { name: 'endpoint.enabled' }).check();
    await operational.getByText('Esquema endpoint.disabled').click();
    expect(await page.getByLabel('Esquema JSON endpoint.disabled').textContent()).toContain('"disabled_at"');
    expect(await unnamedControls(page)).toEqual([]);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Criar endpoint' }).click();
    await page.getByText('Endpoint salvo.').waitFor();
    const opsId = /\/endpoints\/(ep_[0-9a-f]+)/.exec(page.url())?.[1] as string;
    const details = page.locator('dl.facts');
    await details.getByText('endpoint.disabled', { exact: true }).waitFor();
    await details.getByText('endpoint.enabled', { exact: true }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    const saved = (await call(`${subscriptions.url}/endpoints/${opsId}`, apiKey)).body;
    expect(saved.event_types).toEqual(['endpoint.disabled', 'endpoint.enabled']);

    // The school's enrollment endpoint, turned off and on again.
    const enrollmentEp = (await call(`${subscriptions.url}/endpoints`, apiKey, 'POST', { url: enrollment.url(), event_types: ['purchase.*', 'endpoint.*'] })).body;
    ops.secrets = [(await call(`${subscriptions.url}/endpoints/${opsId}/secret`, apiKey)).body.current.secret];
    enrollment.secrets = [(await call(`${subscriptions.url}/endpoints/${enrollmentEp.id}/secret`, apiKey)).body.current.secret];
    await eventually(async () => expect((await call(`${delivery.url}/endpoints/${opsId}/stats`, apiKey)).status).toBe(200), { timeoutMs: 20_000 });
    expect((await call(`${subscriptions.url}/endpoints/${enrollmentEp.id}`, apiKey, 'PATCH', { enabled: false })).status).toBe(200);
    expect((await call(`${subscriptions.url}/endpoints/${enrollmentEp.id}`, apiKey, 'PATCH', { enabled: true })).status).toBe(200);
    const types = () => ops.received.map((w) => (JSON.parse(w.body) as { type: string }).type);
    await eventually(() => expect(types().sort()).toEqual(['endpoint.disabled', 'endpoint.enabled']), { timeoutMs: 30_000 });
    expect(ops.verificationFailures).toEqual([]);
    const disabled = ops.received.map((w) => JSON.parse(w.body)).find((body) => body.type === 'endpoint.disabled');
    expect(disabled.data).toMatchObject({ endpoint_id: enrollmentEp.id, reason: 'by_partner' });
    expect(enrollment.received).toEqual([]);

    // In English, the edit form shows the choice in English.
    await page.getByLabel('Idioma').first().selectOption('en');
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    const english = page.getByRole('group', { name: 'Operational events' });
    await english.getByText('An endpoint never receives notices about itself.', { exact: false }).waitFor();
    await english.getByText('An endpoint that had failed several attempts in a row succeeded again.', { exact: true }).waitFor();
    expect(await english.getByRole('checkbox', { name: 'endpoint.disabled' }).isChecked()).toBe(true);
    expect(await english.getByRole('checkbox', { name: 'message.exhausted' }).isChecked()).toBe(false);
    expect(await unnamedControls(page)).toEqual([]);
    expect(await accessibilityViolations(page)).toEqual([]);
    await english.getByRole('checkbox', { name: 'endpoint.enabled' }).uncheck();
    await english.getByRole('checkbox', { name: 'message.exhausted' }).check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Endpoint saved.').waitFor();
    expect((await call(`${subscriptions.url}/endpoints/${opsId}`, apiKey)).body.event_types).toEqual(['endpoint.disabled', 'message.exhausted']);
    await page.getByLabel('Language').selectOption('pt-BR');
  });
});
