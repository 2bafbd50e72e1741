// Save time and send time agree: for each configuration (production's
// defaults, npm start's, an allow-list), the endpoint URLs subscriptions
// accepts are the ones delivery's sender sends to, and those it refuses (422
// ENDPOINT_URL_NOT_ALLOWED with a reason) are the ones the sender refuses
// without connecting. Both read the same three variables from the same
// environment; the sender is built as delivery.module builds it, and sends
// for real to a receiver on loopback (or tries, for the unreachable ones).
import type { ConfigService } from '@nestjs/config';
import { ProblemError } from '@gancho/service-kit';
import { WebhookSender } from '@gancho/webhook-sender';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliveryConfigSchema } from '../../../apps/delivery/src/delivery.config';
import { EndpointUrlPolicy } from '../../../apps/subscriptions/src/endpoints/endpoint-url-policy';
import { systemResolveHost } from '../../../apps/subscriptions/src/platform/dns';
import { subscriptionsConfigSchema } from '../../../apps/subscriptions/src/subscriptions.config';

const networkKeys = { ALLOW_HTTP_ENDPOINTS: true, ALLOW_PRIVATE_NETWORK_ENDPOINTS: true, ALLOWED_ENDPOINT_HOSTS: true } as const;

type Verdict = 'accepted' | 'refused';

async function saveVerdict(url: string, env: Record<string, string>): Promise<{ verdict: Verdict; reason?: unknown }> {
  const config = subscriptionsConfigSchema.pick(networkKeys).parse(env);
  const policy = new EndpointUrlPolicy({ get: (key: keyof typeof config) => config[key] } as unknown as ConfigService<never, true>, systemResolveHost);
  try {
    await policy.accept(url);
    return { verdict: 'accepted' };
  } catch (error) {
    if (error instanceof ProblemError && error.code === 'ENDPOINT_URL_NOT_ALLOWED') return { verdict: 'refused', reason: error.extensions.reason };
    throw error;
  }
}

async function sendVerdict(url: string, env: Record<string, string>): Promise<Verdict> {
  const config = deliveryConfigSchema.pick(networkKeys).parse(env);
  const sender = new WebhookSender({
    allowHttp: config.ALLOW_HTTP_ENDPOINTS,
    allowPrivateNetworks: config.ALLOW_PRIVATE_NETWORK_ENDPOINTS,
    allowedHosts: config.ALLOWED_ENDPOINT_HOSTS,
    // Unreachable private addresses: an attempt that times out is still an attempt, not a refusal.
    timeoutMs: 1500,
    connectTimeoutMs: 500,
  });
  try {
    const result = await sender.send({ url, headers: {}, body: '{}' });
    // Refused before any connection (scheme, credentials, a non-public address): what delivery records as ssrf_blocked or invalid_url.
    return result.kind === 'error' && (result.errorClass === 'ssrf_blocked' || result.errorClass === 'invalid_url') ? 'refused' : 'accepted';
  } finally {
    await sender.close();
  }
}

describe('endpoint network policy: subscriptions (save) and delivery (send) decide the same', () => {
  let server: Server;
  const receiver = { port: 0 };
  beforeAll(async () => {
    server = createServer((_request, response) => response.writeHead(204).end());
    // Dual-stack, so 127.0.0.1, [::1] and localhost all reach it.
    await new Promise<void>((resolve) => server.listen(0, '::', resolve));
    receiver.port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const configurations: Record<string, () => Record<string, string>> = {
    production: () => ({}),
    'npm start': () => ({ ALLOW_HTTP_ENDPOINTS: 'true', ALLOW_PRIVATE_NETWORK_ENDPOINTS: 'true' }),
    'allow-list': () => ({ ALLOW_HTTP_ENDPOINTS: 'true', ALLOWED_ENDPOINT_HOSTS: `127.0.0.1:${receiver.port}` }),
  };
  // [url, production, npm start, allow-list]
  const table: [(port: number) => string, Verdict, Verdict, Verdict][] = [
    [(p) => `http://127.0.0.1:${p}/hook`, 'refused', 'accepted', 'accepted'],
    [(p) => `http://localhost:${p}/hook`, 'refused', 'accepted', 'refused'],
    [(p) => `http://[::1]:${p}/hook`, 'refused', 'accepted', 'refused'],
    [(p) => `https://127.0.0.1:${p}/hook`, 'refused', 'accepted', 'accepted'],
    [(p) => `http://127.0.0.1:${p + 1}/hook`, 'refused', 'accepted', 'refused'],
    [() => 'http://10.20.30.40:8080/hook', 'refused', 'accepted', 'refused'],
    [() => 'https://192.168.1.20/hook', 'refused', 'accepted', 'refused'],
    [() => 'http://169.254.169.254/latest/meta-data/', 'refused', 'refused', 'refused'],
    [() => 'http://metadata.google.internal/computeMetadata/v1/', 'refused', 'refused', 'refused'],
    [(p) => `http://user:secret@127.0.0.1:${p}/hook`, 'refused', 'refused', 'refused'],
    [(p) => `ftp://127.0.0.1:${p}/hook`, 'refused', 'refused', 'refused'],
    [() => 'http://93.184.215.14/hook', 'refused', 'accepted', 'accepted'],
  ];

  for (const [index, name] of Object.keys(configurations).entries()) {
    it(`${name}: every URL of the table gets the expected verdict, the same at save and at send time`, async () => {
      const env = configurations[name]!();
      const rows = [];
      for (const row of table) {
        const url = row[0](receiver.port);
        const expected = row[index + 1] as Verdict;
        const [save, send] = await Promise.all([saveVerdict(url, env), sendVerdict(url, env)]);
        rows.push({ url, expected, save: save.verdict, send });
        // A refusal says why, as a stable reason the console can translate.
        if (save.verdict === 'refused') expect(typeof save.reason).toBe('string');
      }
      expect(rows).toEqual(rows.map((row) => ({ ...row, save: row.expected, send: row.expected })));
    });
  }
});
