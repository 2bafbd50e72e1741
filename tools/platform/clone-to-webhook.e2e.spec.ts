// The first hour, as a newcomer meets it: a fresh clone of this repository's
// committed HEAD, `npm ci`, `npm start` (which builds everything), then an
// endpoint for the developer's own local app saved through the partner
// console's HTTP API (its /api proxy, with the demo API key), a purchase
// opened with the printed token, and the webhook verified at that app with
// the public `standardwebhooks` package. Prints how long each step took.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { eventually } from '@gancho/testing';
import { repoRoot } from '../infra/paths.mts';
import { chooseStartPorts, npmStart, openPurchase, stopStart, type StartedPlatform } from './npm-start-process.mts';

const run = promisify(execFile);

interface Received {
  verified: boolean;
  type?: string;
  purchaseId?: string;
}

/** The developer's own app on loopback: verifies each webhook with the endpoint's secret once it knows it. */
async function startLocalApp(): Promise<{ server: Server; url: string; received: Received[]; setSecret: (secret: string) => void }> {
  const received: Received[] = [];
  let secret: string | undefined;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        if (!secret) throw new Error('no secret yet');
        const event = new Webhook(secret).verify(body, request.headers as Record<string, string>) as { type: string; data: { purchase_id: string } };
        received.push({ verified: true, type: event.type, purchaseId: event.data.purchase_id });
        response.writeHead(204).end();
      } catch {
        received.push({ verified: false });
        response.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/hook`, received, setSecret: (value) => (secret = value) };
}

async function consoleApi(consoleUrl: string, apiKey: string, pathname: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${consoleUrl}/api/subscriptions${pathname}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

describe('fresh clone → npm ci → npm start → a webhook verified at a local app', () => {
  let workDir: string;
  let platform: StartedPlatform | undefined;
  let app: Awaited<ReturnType<typeof startLocalApp>>;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'gancho-clone-'));
    // PostgreSQL runs as its own user when we are root: it must reach its data folder under this one.
    await chmod(workDir, 0o755);
    app = await startLocalApp();
  });
  afterAll(async () => {
    if (platform && platform.child.exitCode === null) await stopStart(platform);
    app.server.closeAllConnections();
    await new Promise((resolve) => app.server.close(resolve));
    // A service's last compile-cache write can land while the folder is being removed: retry, as rm allows.
    await rm(workDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('takes the README quick start literally and delivers to the developer’s own app', async () => {
    const checkout = path.join(workDir, 'gancho');
    const began = Date.now();
    await run('git', ['clone', '--quiet', '--depth', '1', `file://${repoRoot}`, checkout]);
    const clonedMs = Date.now() - began;
    // From the npm cache when it has the packages (CI's cache, a developer's): no registry round trip for them.
    const { DATABASE_URL: _database, KAFKA_BROKERS: _kafka, ...env } = process.env;
    await run('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: checkout, env, maxBuffer: 64 * 1024 * 1024 });
    const installedMs = Date.now() - began;

    platform = npmStart({ checkout, dataDir: path.join(workDir, 'data'), ports: await chooseStartPorts() });
    const readyAt = await platform.waitForLine(/^gancho is ready in/, 300_000);
    // Everything is built on the first start (nothing came with the clone).
    expect(platform.output()).toMatch(/^gancho: built (\d+) of \1 projects in/m);
    const demo = platform.demo();

    const created = await consoleApi(demo.urls.console, demo.apiKey, '/endpoints', { url: app.url, description: 'my app', event_types: ['purchase.*'] });
    expect(created.status).toBe(201);
    const secret = await consoleApi(demo.urls.console, demo.apiKey, `/endpoints/${created.body.id}/secret`);
    expect(secret.status).toBe(200);
    app.setSecret(secret.body.current.secret);

    const openedAt = Date.now();
    const purchaseId = await openPurchase(platform);
    await eventually(() => expect(app.received).toContainEqual({ verified: true, type: 'purchase.shopping_cart_created', purchaseId }), { timeoutMs: 30_000 });
    const deliveredMs = Date.now() - openedAt;
    expect(app.received.filter((r) => !r.verified)).toEqual([]);

    const stop = await stopStart(platform);
    expect(platform.output()).toMatch(/^gancho: stopped$/m);
    process.stdout.write(
      `fresh clone to verified webhook: clone ${(clonedMs / 1000).toFixed(1)} s, npm ci ${((installedMs - clonedMs) / 1000).toFixed(1)} s, ` +
        `npm start ready ${(readyAt / 1000).toFixed(1)} s (build included), webhook at the local app ${deliveredMs} ms after the purchase, ` +
        `stop ${stop.tookMs} ms; total ${((installedMs + readyAt + deliveredMs) / 1000).toFixed(1)} s (load ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')})\n`,
    );
  }, 900_000);
});
