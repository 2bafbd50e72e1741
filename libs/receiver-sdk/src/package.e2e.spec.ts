import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// Scenarios (the package as a user installs it):
// - the build writes CommonJS and ES module outputs with declarations, and Node loads each through the
//   package's `exports` (require and import), for the main entry and the framework subpaths;
// - a value signed through the CommonJS build verifies through the ES module build;
// - nothing in the package's sources imports Gancho's internal libraries (it is published alone).

const root = path.resolve(__dirname, '..');
const repoRoot = path.resolve(root, '..', '..');
// Plain output: a runner (Nx) may set FORCE_COLOR, and console.log would then colour numbers.
const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });

describe('the published package', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.cjs')], { stdio: 'pipe' });
  }, 120_000);

  it('loads through require and import, with declarations for both', () => {
    const cjs = node(['-e', "const w = require('@gancho/webhooks'); const e = require('@gancho/webhooks/express'); console.log(typeof w.verifyWebhook, typeof e.webhookMiddleware, w.eventTypes.length)"]);
    expect(cjs.trim()).toBe('function function 41');
    const esm = node([
      '--input-type=module',
      '-e',
      "import { verifyWebhook, eventTypes } from '@gancho/webhooks'; import { webhookPlugin } from '@gancho/webhooks/fastify'; console.log(typeof verifyWebhook, typeof webhookPlugin, eventTypes.length)",
    ]);
    expect(esm.trim()).toBe('function function 41');
    for (const kind of ['cjs', 'esm']) {
      for (const entry of ['index', 'express', 'fastify', 'nestjs']) expect(readdirSync(path.join(root, 'dist', kind))).toContain(`${entry}.d.ts`);
    }
    expect(readFileSync(path.join(root, 'dist', 'esm', 'index.js'), 'utf8')).toMatch(/^export \* from '\.\/errors\.js';/m);
  });

  it('verifies with the ES module build what the CommonJS build signed', () => {
    const signed = node([
      '-e',
      "const { signWebhook } = require('@gancho/webhooks'); const body = JSON.stringify({ type: 'purchase.paid', timestamp: 't', data: {} }); console.log(JSON.stringify({ body, headers: signWebhook({ id: 'msg_1', timestamp: new Date(), body, secret: 'whsec_' + Buffer.alloc(32, 3).toString('base64') }) }))",
    ]);
    const verified = node([
      '--input-type=module',
      '-e',
      `import { verifyWebhook } from '@gancho/webhooks'; const { body, headers } = ${signed.trim()}; console.log(verifyWebhook(body, headers, { secret: 'whsec_' + Buffer.alloc(32, 3).toString('base64') }).event.type)`,
    ]);
    expect(verified.trim()).toBe('purchase.paid');
  });

  it('imports none of Gancho’s internal libraries from its sources', () => {
    const sources = readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.includes('.spec.') && !f.startsWith('testing'));
    expect(sources.length).toBeGreaterThan(5);
    const offenders = sources.filter((file) => /from '@gancho\//.test(readFileSync(path.join(root, 'src', file), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
