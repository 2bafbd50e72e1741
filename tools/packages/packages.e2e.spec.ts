// The SDK and the CLI install the way their READMEs say, in an empty project
// with no registry: `npm run pack` (tools/packages/pack.mts) makes the two
// tarballs, `npm install --offline` installs them, and then the SDK verifies
// a webhook signed by the public `standardwebhooks` package from CommonJS
// and from an ES module, and `npx gancho` runs, with npm start's ports as its
// defaults.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { packPublishedPackages } from './pack.mts';

const run = promisify(execFile);

describe('@gancho/webhooks and @gancho/cli from their tarballs, offline, in an empty project', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gancho-packages-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('installs both with no registry; the SDK verifies from require and import; npx gancho runs', async () => {
    const { sdk, cli } = packPublishedPackages(path.join(dir, 'tarballs'));
    expect(path.basename(sdk)).toMatch(/^gancho-webhooks-0\.\d+\.\d+\.tgz$/);
    const project = path.join(dir, 'project');
    await run('mkdir', [project]);
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'school-app', version: '1.0.0', private: true }));
    // No registry and no cache to fall back on: `--offline` fails on anything not in the tarballs.
    const { npm_config_cache: _cache, ...env } = process.env;
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--cache', path.join(dir, 'empty-cache'), sdk, cli], { cwd: project, env });

    const secret = `whsec_${Buffer.from('a school app secret of 32 bytes!').toString('base64')}`;
    const body = JSON.stringify({ type: 'purchase.paid', timestamp: new Date().toISOString(), data: { purchase_id: 'pur_1' } });
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)) };
    const signed = { ...headers, 'webhook-signature': new Webhook(secret).sign('msg_1', new Date(Number(headers['webhook-timestamp']) * 1000), body) };
    const input = JSON.stringify({ body, headers: signed, secret });
    const verifyCjs = `const { verifyWebhook } = require('@gancho/webhooks'); const i = JSON.parse(process.argv[1]); console.log(verifyWebhook(i.body, i.headers, { secret: i.secret }).event.type);`;
    const verifyEsm = `import { verifyWebhook } from '@gancho/webhooks'; const i = JSON.parse(process.argv[1]); console.log(verifyWebhook(i.body, i.headers, { secret: i.secret }).event.type);`;
    expect((await run(process.execPath, ['-e', verifyCjs, input], { cwd: project })).stdout.trim()).toBe('purchase.paid');
    expect((await run(process.execPath, ['--input-type=module', '-e', verifyEsm, input], { cwd: project })).stdout.trim()).toBe('purchase.paid');

    expect((await run('npx', ['--offline', 'gancho', '--version'], { cwd: project, env })).stdout.trim()).toBe('0.1.0');
    expect((await run('npx', ['--offline', 'gancho', 'endpoints', '--help'], { cwd: project, env })).stdout).toMatch(/delete <endpoint-id>/);
    // Its defaults are npm start's ports.
    const defaults = `const c = require('@gancho/cli/dist/config.js'); console.log(c.defaultSubscriptionsUrl, c.defaultDeliveryUrl);`;
    expect((await run(process.execPath, ['-e', defaults], { cwd: project })).stdout.trim()).toBe('http://localhost:4002 http://localhost:4003');
  }, 300_000);
});
