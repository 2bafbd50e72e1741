// The gancho CLI against the real subscriptions service (its PostgreSQL and
// Kafka), as a developer runs it inside a checkout where `npm start` wrote
// .gancho/demo.json: no login, no flags — the demo key and the service's URL
// come from that file; `endpoints create`, `list` and `delete` work there.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createTestDatabase, type TestDatabase, type TestService } from '@gancho/testing';
import { run } from '../../../apps/cli/src/cli';
import { startSubscriptions, subscriptionsClient } from '../../../apps/subscriptions/src/testing/subscriptions-test-app';

describe('gancho CLI inside an npm start checkout, against the real subscriptions service', () => {
  let database: TestDatabase;
  let service: TestService;
  let checkout: string;
  let partner: { partnerId: string; key: string };

  beforeAll(async () => {
    database = await createTestDatabase('cli_against_subscriptions');
    service = await startSubscriptions(database.url);
    partner = await subscriptionsClient(service.url).newPartner('Escola CLI');
    checkout = await mkdtemp(path.join(os.tmpdir(), 'gancho-cli-checkout-'));
    await mkdir(path.join(checkout, '.gancho'));
    // What npm start writes (urls.delivery is not used by these commands).
    await writeFile(path.join(checkout, '.gancho', 'demo.json'), JSON.stringify({ partnerId: partner.partnerId, apiKey: partner.key, urls: { subscriptions: service.url, delivery: 'http://127.0.0.1:1' } }));
  });
  afterAll(async () => {
    await service?.close();
    await database?.drop();
    await rm(checkout, { recursive: true, force: true });
  });

  async function gancho(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await run(['--json', ...args], {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      stdin: new PassThrough(),
      // No saved login: a config file that does not exist.
      env: { GANCHO_CONFIG: path.join(checkout, 'no-config.json') },
      // A folder below the checkout: the file is found in a parent.
      cwd: path.join(checkout, 'apps'),
    });
    return { code, stdout, stderr };
  }

  it('creates, lists and deletes an endpoint with the demo key and URL from .gancho/demo.json', async () => {
    const created = await gancho('endpoints', 'create', '--url', 'http://127.0.0.1:4090/hook', '--events', 'purchase.*');
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const endpoint = JSON.parse(created.stdout) as { id: string; signing_secret: string };
    expect(endpoint.signing_secret).toMatch(/^whsec_/);

    const listed = await gancho('endpoints', 'list');
    expect(JSON.parse(listed.stdout).items.map((e: { id: string }) => e.id)).toEqual([endpoint.id]);

    const deleted = await gancho('endpoints', 'delete', endpoint.id);
    expect(deleted).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(deleted.stdout)).toEqual({ deleted: true, endpoint_id: endpoint.id });
    expect(JSON.parse((await gancho('endpoints', 'list')).stdout).items).toEqual([]);
    expect((await subscriptionsClient(service.url).as(partner.key)('GET', `/endpoints/${endpoint.id}`)).status).toBe(404);

    // Deleting it again: the service's 404, said as such, exit 1.
    const again = await gancho('endpoints', 'delete', endpoint.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/ENDPOINT_NOT_FOUND|NOT_FOUND/);
  });
});
